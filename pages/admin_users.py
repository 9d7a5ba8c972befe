"""Administration: create accounts, disable them, reset passwords, make admins."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from crypto_dash.services import users
from crypto_dash.services.users import UserView
from pages import _shared as shared

logger = logging.getLogger(__name__)


def create_form(frame: shared.Frame) -> None:
    with st.form("user_create", clear_on_submit=True):
        name, secret = st.columns(2)
        username = name.text_input("User name", key="user_new_name")
        password = secret.text_input(
            "Password", type="password", key="user_new_password"
        )
        admin = st.checkbox("Administrator", key="user_new_admin")
        submitted = st.form_submit_button("Create user", key="user_create_submit")
    if not submitted:
        return
    created = shared.attempt(
        lambda: users.create_user(
            frame.principal,
            frame.runtime.db,
            username,
            password,
            is_admin=admin,
            rounds=frame.runtime.settings.bcrypt_rounds,
        )
    )
    if created is not None:
        kind = "administrator" if created.is_admin else "user"
        shared.flash(f"Created {kind} {created.username}.")
        st.rerun()


def user_table(frame: shared.Frame, accounts: list[UserView]) -> None:
    rows = [
        {
            "User": account.username,
            "Administrator": "yes" if account.is_admin else "no",
            "Active": "yes" if account.is_active else "disabled",
            f"Created ({frame.zone_name})": shared.show_time(
                account.created_at, frame.zone
            ),
        }
        for account in accounts
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="user_table")


def account_actions(frame: shared.Frame, account: UserView) -> None:
    active, admin = st.columns(2)
    if active.button(
        f"Disable {account.username}"
        if account.is_active
        else f"Enable {account.username}",
        key="user_toggle_active",
    ):
        changed = shared.attempt(
            lambda: users.set_active(
                frame.principal, frame.runtime.db, account.id, not account.is_active
            )
        )
        if changed is not None:
            state = "enabled" if changed.is_active else "disabled; their sign-ins end"
            shared.flash(f"{changed.username} is {state}.")
            st.rerun()
    if admin.button(
        "Withdraw administrator rights" if account.is_admin else "Make administrator",
        key="user_toggle_admin",
    ):
        changed = shared.attempt(
            lambda: users.set_admin(
                frame.principal, frame.runtime.db, account.id, not account.is_admin
            )
        )
        if changed is not None:
            state = (
                "an administrator" if changed.is_admin else "no longer an administrator"
            )
            shared.flash(f"{changed.username} is {state}.")
            st.rerun()


def reset_form(frame: shared.Frame, account: UserView) -> None:
    with st.form("user_reset", clear_on_submit=True):
        password = st.text_input(
            f"New password for {account.username}",
            type="password",
            key="user_reset_password",
        )
        submitted = st.form_submit_button("Reset password", key="user_reset_submit")
    if not submitted:
        return
    changed = shared.attempt(
        lambda: users.reset_password(
            frame.principal,
            frame.runtime.db,
            account.id,
            password,
            rounds=frame.runtime.settings.bcrypt_rounds,
        )
    )
    if changed is not None:
        shared.flash(f"New password set for {changed.username}; their sign-ins end.")
        st.rerun()


def render() -> None:
    frame = shared.frame()
    shared.header("Users")
    st.subheader("Create a user")
    create_form(frame)
    accounts = shared.load(lambda: users.list_users(frame.principal, frame.runtime.db))
    st.subheader("Accounts")
    user_table(frame, accounts)
    by_id = {account.id: account for account in accounts}
    chosen = st.selectbox(
        "Account to change",
        list(by_id),
        format_func=lambda uid: by_id[uid].username,
        key="user_pick",
    )
    if chosen is not None:
        account_actions(frame, by_id[chosen])
        reset_form(frame, by_id[chosen])


render()
