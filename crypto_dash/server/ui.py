"""STAND-IN from branch dash1, replaced at merge by the auth branch's ui.py.

It carries only the names the dashboard pages import; the real module restores
the sign-in from the cookie and renders the scripts that set and revoke it.
"""

from __future__ import annotations

import logging

import streamlit as st

from crypto_dash.runtime import Runtime, open_runtime
from crypto_dash.services.principal import Principal

logger = logging.getLogger(__name__)


@st.cache_resource(on_release=lambda runtime: runtime.close())
def get_runtime() -> Runtime:
    return open_runtime()


def current_principal() -> Principal | None:
    principal: Principal | None = st.session_state.get("principal")
    return principal


def sign_in_script(ticket: str) -> str:
    return "<!-- stand-in: the auth branch sets the sign-in cookie here -->"


def sign_out_script() -> str:
    return "<!-- stand-in: the auth branch revokes the sign-in cookie here -->"
