"""Members of the chosen organization: see them; owners add, re-role, remove."""

from __future__ import annotations

import logging
import uuid

import pandas as pd
import streamlit as st

from crypto_dash.db.models import Role
from crypto_dash.services import members
from crypto_dash.services.members import MemberView
from pages import _shared as shared

logger = logging.getLogger(__name__)

ROLES = [Role.VIEWER.value, Role.EDITOR.value, Role.OWNER.value]
PENDING_REMOVE = "member_pending_remove"


def member_table(frame: shared.Frame, people: list[MemberView]) -> None:
    rows = [
        {
            "User": person.username,
            "Role": person.role.value,
            f"Joined ({frame.zone_name})": shared.show_time(
                person.joined_at, frame.zone
            ),
        }
        for person in people
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="member_table")


def add_form(frame: shared.Frame, org_id: uuid.UUID) -> None:
    with st.form("member_add", clear_on_submit=True):
        name, role = st.columns(2)
        username = name.text_input("User name", key="member_add_username")
        chosen = role.selectbox("Role", ROLES, key="member_add_role")
        submitted = st.form_submit_button("Add member", key="member_add_submit")
    if not submitted:
        return
    added = shared.attempt(
        lambda: members.add_member(
            frame.principal, frame.runtime.db, org_id, username, chosen
        )
    )
    if added is not None:
        shared.flash(f"Added {added.username} as {added.role.value}.")
        st.rerun()


def change_form(
    frame: shared.Frame, org_id: uuid.UUID, people: list[MemberView]
) -> None:
    by_id = {person.user_id: person for person in people}
    who, role = st.columns(2)
    # Others first, so that the form never starts out aimed at yourself.
    ids = sorted(by_id, key=lambda uid: uid == frame.principal.user_id)
    user_id = who.selectbox(
        "Member",
        ids,
        format_func=lambda uid: by_id[uid].username,
        key="member_pick",
    )
    new_role = role.selectbox("New role", ROLES, key="member_new_role")
    if st.button("Change role", key="member_change_submit"):
        changed = shared.attempt(
            lambda: members.change_role(
                frame.principal, frame.runtime.db, org_id, user_id, new_role
            )
        )
        if changed is not None:
            shared.flash(f"{changed.username} is now {changed.role.value}.")
            st.rerun()
    if st.button("Remove member…", key="member_remove"):
        st.session_state[PENDING_REMOVE] = user_id
    pending = st.session_state.get(PENDING_REMOVE)
    if pending in by_id:
        confirm_remove(frame, org_id, by_id[pending])


def _cancel_remove() -> None:
    st.session_state.pop(PENDING_REMOVE, None)


@st.dialog("Remove the member?", on_dismiss=_cancel_remove)
def confirm_remove(frame: shared.Frame, org_id: uuid.UUID, person: MemberView) -> None:
    st.markdown(
        f"**{person.username}** loses access to this organization at once. "
        "You can add them again later."
    )
    remove, cancel = st.columns(2)
    if cancel.button("Cancel", key="member_remove_cancel"):
        _cancel_remove()
        st.rerun()
    if remove.button(
        f"Remove {person.username}", key="member_remove_confirm", type="primary"
    ):
        done = shared.succeeded(
            lambda: members.remove_member(
                frame.principal, frame.runtime.db, org_id, person.user_id
            )
        )
        if done:
            _cancel_remove()
            shared.flash(f"Removed {person.username}.")
            st.rerun()


def render() -> None:
    frame = shared.frame()
    org = frame.org
    assert org is not None  # the page exists only when an organization is chosen
    shared.header(f"Members of {org.name}")
    people = shared.load(
        lambda: members.list_members(frame.principal, frame.runtime.db, org.id)
    )
    member_table(frame, people)
    if not frame.can_manage:
        st.caption("Only the organization's owners can add, re-role or remove members.")
        return
    st.subheader("Add a member")
    add_form(frame, org.id)
    st.subheader("Change a role or remove a member")
    change_form(frame, org.id, people)


render()
