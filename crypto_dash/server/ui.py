"""Streamlit-side glue for the pages: the shared runtime and the sign-in cookie.

Pages call ``current_principal()`` at the top of every run. After a password
sign-in, the sign-in page stores the principal in ``st.session_state`` and
renders ``sign_in_script(authenticator.start_browser_session(principal))``
with ``st.html(..., unsafe_allow_javascript=True)``, so the browser gets the
HttpOnly cookie and a reload (a new session) signs in again from it.
"""

from __future__ import annotations

import json
import logging

import streamlit as st

from crypto_dash.runtime import Runtime, open_runtime
from crypto_dash.server.api.session import COOKIE_NAME
from crypto_dash.services.principal import Principal

logger = logging.getLogger(__name__)

PRINCIPAL_KEY = "principal"
FROM_COOKIE = "principal_from_cookie"
REDEEM_PATH = "/api/session/redeem/"
LOGOUT_PATH = "/api/session/logout/"


@st.cache_resource(show_spinner=False, on_release=lambda runtime: runtime.close())
def get_runtime() -> Runtime:
    """Open the runtime once per process; the server lifespan and pages share it."""
    return open_runtime()


def session_cookie() -> str | None:
    """The sign-in cookie of this browser session (AppTest cannot set cookies)."""
    return st.context.cookies.get(COOKIE_NAME)


def current_principal() -> Principal | None:
    """The signed-in principal: from session state, else restored from the cookie.

    A principal restored from the cookie is checked against it on every run, so
    signing out in one tab (which revokes the cookie on the server) ends the
    other tabs of that browser on their next interaction too.
    """
    principal = st.session_state.get(PRINCIPAL_KEY)
    cookie = session_cookie()
    if isinstance(principal, Principal):
        if st.session_state.get(FROM_COOKIE) and not _still_valid(cookie):
            st.session_state.pop(PRINCIPAL_KEY, None)
            st.session_state.pop(FROM_COOKIE, None)
            return None
        return principal
    if not cookie:
        return None
    principal = get_runtime().authenticator.principal_from_session(cookie)
    if principal is not None:
        st.session_state[PRINCIPAL_KEY] = principal
        st.session_state[FROM_COOKIE] = True
    return principal


def _still_valid(cookie: str | None) -> bool:
    authenticator = get_runtime().authenticator
    return bool(cookie) and authenticator.principal_from_session(cookie) is not None


def sign_in_script(ticket: str) -> str:
    """HTML that makes the browser trade the one-time ticket for the cookie."""
    body = json.dumps({"ticket": ticket})
    return _post_script(REDEEM_PATH, body)


def sign_out_script() -> str:
    """HTML that makes the browser revoke and clear its sign-in cookie."""
    return _post_script(LOGOUT_PATH, "{}")


def sign_out() -> str:
    """End this session's sign-in on the server now; return the cookie-clearing HTML.

    ``st.context.cookies`` keeps the cookie this session connected with, so the
    server-side revocation must not wait for the browser's request.
    """
    cookie = session_cookie()
    if cookie:
        get_runtime().authenticator.end_browser_session(cookie)
    st.session_state.pop(PRINCIPAL_KEY, None)
    st.session_state.pop(FROM_COOKIE, None)
    return sign_out_script()


def _post_script(path: str, body: str) -> str:
    # json.dumps twice: the body becomes a JS string literal; "</" is escaped so
    # the value can never close the script element.
    literal = json.dumps(body).replace("</", "<\\/")
    return (
        "<script>"
        f"fetch({json.dumps(path)}, {{method: 'POST', credentials: 'same-origin', "
        f"headers: {{'Content-Type': 'application/json'}}, body: {literal}}});"
        "</script>"
    )
