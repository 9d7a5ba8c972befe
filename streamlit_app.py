"""The entry script: who is signed in decides which pages exist, on every run."""

from __future__ import annotations

import logging
from typing import NoReturn

import streamlit as st

from crypto_dash.errors import AuthError
from crypto_dash.server import ui
from crypto_dash.services.principal import Principal
from pages import _shared as shared

logger = logging.getLogger(__name__)


def run() -> None:
    st.set_page_config(
        page_title="crypto_dash", page_icon=":material/monitoring:", layout="wide"
    )
    principal = ui.current_principal()
    if principal is None:
        sign_in = st.Page("pages/sign_in.py", title="Sign in", url_path="sign-in")
        st.navigation([sign_in], position="hidden").run()
        return
    current = build_frame(principal)
    st.navigation(pages_for(current)).run()


def build_frame(principal: Principal) -> shared.Frame:
    """Load the user's organizations and draw the sidebar around every page."""
    runtime = ui.get_runtime()
    try:
        orgs = shared.all_organizations(principal, runtime)
    except AuthError as exc:
        end_session(exc.message)
    if ticket := st.session_state.pop(shared.SIGN_IN_TICKET, None):
        st.html(ui.sign_in_script(ticket), unsafe_allow_javascript=True)
    st.sidebar.caption(f"Signed in as **{principal.username}**")
    org = shared.choose_organization(orgs)
    st.sidebar.button("Sign out", key="sign_out", on_click=sign_out)
    zone, zone_name = shared.viewer_zone()
    current = shared.Frame(runtime, principal, orgs, org, zone, zone_name)
    st.session_state[shared.FRAME] = current
    return current


def pages_for(current: shared.Frame) -> dict[str, list[st.Page]]:
    """The menu: organizations for everyone, the chosen one's pages, admin pages.

    With an organization chosen, its dashboard is the start page.
    """
    chosen = current.org is not None
    work = [
        st.Page("pages/organizations.py", title="Organizations", default=not chosen)
    ]
    if chosen:
        work[:0] = [
            st.Page("pages/dashboard.py", title="Dashboard", default=True),
            st.Page("pages/watchlist.py", title="Watchlist"),
            st.Page("pages/history.py", title="Price history"),
        ]
        work.append(st.Page("pages/members.py", title="Members"))
        work.append(st.Page("pages/price_entries.py", title="Price entries"))
    menu = {"Dashboard": work}
    if current.principal.is_admin:
        menu["Administration"] = [
            st.Page("pages/admin_users.py", title="Users"),
            st.Page("pages/admin_audit.py", title="Audit log"),
            st.Page("pages/admin_scheduler.py", title="Scheduler"),
        ]
    return menu


def sign_out() -> None:
    logger.info("%s signed out", st.session_state["principal"].username)
    ui.sign_out()  # revoke on the server now: this session keeps the old cookie
    st.session_state.clear()
    st.session_state[shared.SIGNED_OUT] = "You are signed out."


def end_session(message: str) -> NoReturn:
    """The account was disabled or its sign-in revoked: back to the sign-in page."""
    st.session_state.clear()
    st.session_state[shared.SIGNED_OUT] = message
    st.rerun()


run()
