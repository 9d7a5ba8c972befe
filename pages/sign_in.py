"""Sign in with a user name and password, or create the first administrator."""

from __future__ import annotations

import logging

import streamlit as st

from crypto_dash.errors import (
    AccountLocked,
    CryptoDashError,
    InvalidCredentials,
    ValidationError,
)
from crypto_dash.server import ui
from pages import _shared as shared

logger = logging.getLogger(__name__)

# One sentence for every failure, so a form never tells which half was wrong.
WRONG = "The user name or password is wrong."


def sign_in_form() -> None:
    with st.form("sign_in"):
        username = st.text_input("User name", key="sign_in_username")
        password = st.text_input("Password", type="password", key="sign_in_password")
        submitted = st.form_submit_button("Sign in", key="sign_in_submit")
    if not submitted:
        return
    auth = ui.get_runtime().authenticator
    try:
        principal = auth.authenticate(username, password)
    except AccountLocked as exc:
        st.error(f"Too many failed sign-ins. Try again in {exc.retry_after} s.")
        return
    except (InvalidCredentials, ValidationError):
        st.error(WRONG)
        return
    st.session_state[shared.SIGN_IN_TICKET] = auth.start_browser_session(principal)
    st.session_state["principal"] = principal
    st.rerun()


def first_admin_form() -> None:
    st.info(
        "No one can sign in yet. Create the first administrator with the one-time "
        "setup code that the server printed in its log."
    )
    with st.form("first_admin"):
        code = st.text_input("Setup code", type="password", key="setup_code")
        username = st.text_input("User name", key="setup_username")
        password = st.text_input("Password", type="password", key="setup_password")
        submitted = st.form_submit_button("Create administrator", key="setup_submit")
    if not submitted:
        return
    try:
        ui.get_runtime().authenticator.create_first_admin(code, username, password)
    except CryptoDashError as exc:
        st.error(exc.message)
        return
    shared.flash(f"Administrator {username} created; sign in now.")
    st.rerun()


def render() -> None:
    shared.header("Sign in to crypto_dash")
    if message := st.session_state.pop(shared.SIGNED_OUT, None):
        st.html(ui.sign_out_script(), unsafe_allow_javascript=True)
        st.info(message)
    if ui.get_runtime().authenticator.setup_needed():
        first_admin_form()
    else:
        sign_in_form()


render()
