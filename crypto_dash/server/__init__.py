"""The web server: Streamlit's ``st.App`` with the JSON API beside the pages.

This package is the only part of crypto_dash that imports Streamlit.
"""
