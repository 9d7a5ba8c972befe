"""Running the Streamlit app under AppTest against the test's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from crypto_dash.services.principal import Principal

ENTRY = "../../streamlit_app.py"
TIMEOUT = 30

OpenApp = Callable[..., AppTest]


def _navigation_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every AppTest run go through streamlit_app.py, as the server does.

    AppTest forgets before each run that st.navigation is in charge, so with a
    pages/ folder next to the entry script it runs a switched-to page file
    directly, without the entry script (Streamlit's old pages/ mode). A server
    leaves that mode for good on its first run of the entry script; this does
    the same for every run. (Streamlit 1.67, PagesManager.uses_pages_directory.)
    """
    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


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
    _navigation_only(monkeypatch)
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


ALL_PAGES = (
    "pages/organizations.py",
    "pages/dashboard.py",
    "pages/watchlist.py",
    "pages/history.py",
    "pages/members.py",
    "pages/price_entries.py",
    "pages/admin_users.py",
    "pages/admin_audit.py",
    "pages/admin_scheduler.py",
)


def pages_offered(at: AppTest) -> list[str]:
    """The page files the last run registered in the navigation."""
    offered = []
    for page in ALL_PAGES:
        try:
            at.switch_page(page)
        except ValueError:
            continue
        offered.append(page)
    if offered:
        at.switch_page(offered[0])
    return offered


def shown(at: AppTest, kind: str) -> list[str]:
    """The texts of one kind of element in the main area: success, error, info..."""
    return [element.value for element in getattr(at.main, kind)]


def keys(at: AppTest) -> set[str]:
    """The keys of every widget on the page and in dialogs: which controls exist."""
    found = set()
    for kind in (
        "button",
        "text_input",
        "selectbox",
        "multiselect",
        "radio",
        "toggle",
        "datetime_input",
    ):
        found.update(w.key for w in getattr(at, kind) if w.key)
    return found


def table(at: AppTest) -> list[dict[str, object]]:
    """The rows of the page's one table, as dicts."""
    (frame,) = at.main.dataframe
    records: list[dict[str, object]] = frame.value.to_dict("records")
    return records


def column(at: AppTest, name: str) -> list[object]:
    return [row[name] for row in table(at)]
