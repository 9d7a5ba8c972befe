"""Helpers for the browser test: the real server, the CLI, Chromium, Streamlit.

The server is ``python -m crypto_dash serve --port 0`` on loopback, with its
own data folder and SQLite file; it logs the address it really listens on.
Chromium is Debian's ``/usr/bin/chromium`` (Playwright cannot download its
own browsers here), driven headless through Playwright's sync API.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
READY = re.compile(r"server ready on (http://127\.0\.0\.1:\d+)")
# Streamlit marks its root element; both attributes are what Streamlit's own
# end-to-end tests wait for.
APP_IDLE = (
    "[data-testid='stApp'][data-test-script-state='notRunning']"
    "[data-test-connection-state='CONNECTED']"
)
# Widgets load their code lazily and show a skeleton meanwhile; tables draw on a
# canvas once their code is in. A screenshot waits for both.
DRAWN = """() =>
    document.querySelectorAll("[data-testid='stSkeleton']").length === 0 &&
    [...document.querySelectorAll("[data-testid='stDataFrame']")].every(
        (table) => table.querySelector("[data-testid='data-grid-canvas']")
    )
"""
TIMEOUT_MS = 30_000
MAIN_HEIGHT = """() =>
    document.querySelector("[data-testid='stMain']")?.scrollHeight ?? 0
"""
MAX_SHOT_HEIGHT = 2000


def browser_problem() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def require_browser() -> None:
    """Skip without Chromium or Playwright; in CI (env CI set), fail instead."""
    problem = browser_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run in CI: {problem}")
    pytest.skip(problem)


def server_env(folder: Path) -> dict[str, str]:
    """This process's environment minus any CRYPTO_DASH_*, plus a private store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTO_DASH_")}
    env |= {
        "CRYPTO_DASH_DATA_DIR": str(folder / "data"),
        "CRYPTO_DASH_DATABASE_URL": f"sqlite:///{folder / 'crypto_dash.sqlite3'}",
        "CRYPTO_DASH_BCRYPT_ROUNDS": "4",
        "CRYPTO_DASH_SCHEDULER": "off",
    }
    return env


def cli(env: dict[str, str], *args: str, password: str | None = None) -> str:
    """Run ``python -m crypto_dash ARGS``; return its output, fail with it."""
    result = subprocess.run(
        [sys.executable, "-m", "crypto_dash", *args],
        cwd=ROOT,
        env=env,
        input=None if password is None else password + "\n",
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


@dataclass(frozen=True)
class Server:
    base_url: str
    log: Path


def _wait_for_address(log: Path, process: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = READY.search(log.read_text())
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"the server never got ready:\n{log.read_text()}")


@contextmanager
def running_server(env: dict[str, str], log: Path) -> Iterator[Server]:
    """The real server on an ephemeral loopback port; SIGTERM when done."""
    with log.open("w") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crypto_dash",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
            ],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Server(_wait_for_address(log, process, timeout=60), log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def settle(page: Page) -> None:
    """Wait until the script has finished its run and the socket is connected."""
    page.wait_for_selector(APP_IDLE, timeout=TIMEOUT_MS)


def key(name: str) -> str:
    """The CSS selector of a widget's container: Streamlit adds ``st-key-<key>``."""
    return f".st-key-{name}"


def cell(page: Page, column: str, text: str) -> Locator:
    """The cell reading exactly ``text`` in the table that has column ``column``.

    ``st.dataframe`` draws on a canvas, with an accessible table of the visible
    cells inside it; that table is what this reads. (Its ``key`` adds no
    ``st-key-`` class, unlike the widgets', so the column names the table.)
    """
    table = page.get_by_test_id("stDataFrame").filter(
        has=page.locator("[role='columnheader']", has_text=column)
    )
    exact = re.compile(rf"^{re.escape(text)}$")
    return table.locator("[role='gridcell']").filter(has_text=exact)


def shoot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot of the settled, fully drawn page as artifacts/<name>.png.

    ``full_page`` takes the whole page: Streamlit scrolls inside its main
    element, not the document, so the viewport grows to that element's height
    for the shot (at most ``MAX_SHOT_HEIGHT``) and shrinks back after.
    """
    settle(page)
    page.wait_for_function(DRAWN, timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size or VIEWPORT
    height = page.evaluate(MAIN_HEIGHT) if full_page else 0
    if height > size["height"]:
        page.set_viewport_size(
            {"width": size["width"], "height": min(height, MAX_SHOT_HEIGHT)}
        )
        page.wait_for_timeout(500)  # plotly redraws at the new size
        page.wait_for_function(DRAWN, timeout=TIMEOUT_MS)
    try:
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path


def publish(names: list[str], folder: Path) -> None:
    """Copy chosen screenshots (by name) from the artifacts folder to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(ARTIFACTS / f"{name}.png", folder / f"{name}.png")


@contextmanager
def browser_context(timezone_id: str = "UTC") -> Iterator[BrowserContext]:
    """A headless Chromium context with the test viewport in ``timezone_id``."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(
            viewport=VIEWPORT, timezone_id=timezone_id, accept_downloads=True
        )
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()
            browser.close()


def sign_in(page: Page, username: str, password: str) -> None:
    """Fill the sign-in form and wait for the server to set the cookie."""
    page.get_by_label("User name").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    with page.expect_response(lambda r: "/api/session/redeem/" in r.url) as redeem:
        page.get_by_role("button", name="Sign in").click()
    assert redeem.value.status == 200


def open_page(page: Page, title: str, heading: str) -> None:
    """Follow the sidebar link ``title`` and wait for the page's ``heading``."""
    from playwright.sync_api import expect

    page.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    settle(page)


def choose(page: Page, widget_key: str, option: str | re.Pattern[str]) -> None:
    """Pick ``option`` (its whole text, or a pattern) in selectbox ``widget_key``."""
    page.locator(key(widget_key)).get_by_role("combobox").click()
    exact = isinstance(option, str) or None
    page.get_by_role("option", name=option, exact=exact).click()
