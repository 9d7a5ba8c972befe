"""Running the Streamlit app under AppTest against the test's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from crypto_dash.services.principal import Principal

ENTRY = "../../streamlit_app.py"
TIMEOUT = 30

OpenApp = Callable[..., AppTest]


def _clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def open_app(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[OpenApp]:
    """Open the app, signed in as a principal (or not), on the test database."""
    monkeypatch.setenv("CRYPTO_DASH_DATABASE_URL", db_url)
    monkeypatch.setenv("CRYPTO_DASH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRYPTO_DASH_BCRYPT_ROUNDS", "4")
    _clear_caches()

    def open_as(principal: Principal | None, *, timezone: str | None = None) -> AppTest:
        at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT)
        if principal is not None:
            at.session_state["principal"] = principal
        if timezone is not None:
            at.context["timezone"] = timezone
        return at.run()

    yield open_as
    _clear_caches()
