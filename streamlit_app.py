"""Placeholder entry script so the server can start; the dashboard replaces it."""

import streamlit as st

from crypto_dash.server.ui import current_principal

st.title("crypto_dash")
principal = current_principal()
st.write(f"Signed in as {principal.username}." if principal else "Not signed in.")
