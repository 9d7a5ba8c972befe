"""Debian's Chromium against the real server: one user's whole session.

Screenshots of every page land in tests/e2e/artifacts/ (git-ignored); with
UPDATE_SCREENSHOTS=1 the README's ones in docs/screenshots/ are refreshed too.
"""

from __future__ import annotations

import os
import re

import pytest

from crypto_dash.server.api.session import COOKIE_NAME
from tests.e2e import browser_support as support
from tests.e2e.browser_support import cell, key, settle, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN, MEMBER = "root", "bob"
PASSWORD = "correct horse"
EXACT_PRICE = "65000.1234567890"
ORG = "Acme Desk"
README_SHOTS = [
    "sign-in",
    "organizations",
    "members",
    "price-entries",
    "admin-users",
    "audit-log",
]


@pytest.fixture
def server_env(tmp_path):
    support.require_browser()
    env = support.server_env(tmp_path)
    support.cli(env, "create-admin", ADMIN, "--password-stdin", password=PASSWORD)
    support.cli(env, "create-user", MEMBER, "--password-stdin", password=PASSWORD)
    return env


@pytest.fixture
def server(server_env, tmp_path):
    with support.running_server(server_env, tmp_path / "server.log") as running:
        yield running


@pytest.fixture
def browser_context():
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(support.CHROMIUM),
            args=support.CHROMIUM_ARGS,
            headless=True,
        )
        context = browser.new_context(viewport=support.VIEWPORT, timezone_id="UTC")
        context.set_default_timeout(support.TIMEOUT_MS)
        expect.set_options(timeout=support.TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()
            browser.close()


def session_cookies(context):
    return [c for c in context.cookies() if c["name"] == COOKIE_NAME]


def open_page(page, title: str, heading: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    settle(page)


def choose(page, widget_key: str, option: str) -> None:
    """Pick ``option`` in the selectbox with key ``widget_key``."""
    page.locator(key(widget_key)).get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()


def sign_in(page, username: str, password: str) -> None:
    page.get_by_label("User name").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    with page.expect_response(lambda r: "/api/session/redeem/" in r.url) as redeem:
        page.get_by_role("button", name="Sign in").click()
    assert redeem.value.status == 200


def test_a_user_signs_in_manages_an_organization_and_signs_out(server, browser_context):
    from playwright.sync_api import expect

    page = browser_context.new_page()
    signed_in = page.get_by_text(f"Signed in as {ADMIN}")
    sign_in_heading = page.get_by_role("heading", name="Sign in to crypto_dash")

    # Sign in; the cookie that keeps the sign-in is HttpOnly and SameSite=Strict.
    page.goto(server.base_url)
    expect(sign_in_heading).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    shoot(page, "sign-in")
    sign_in(page, ADMIN, PASSWORD)
    expect(signed_in).to_be_visible()
    [cookie] = session_cookies(browser_context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"

    # A reload is a new Streamlit session: the cookie signs it in again.
    page.reload()
    settle(page)
    expect(signed_in).to_be_visible()
    expect(sign_in_heading).to_have_count(0)
    expect(
        page.get_by_role("heading", name="Organizations", exact=True)
    ).to_be_visible()
    expect(page.get_by_text("You are not in any organization yet.")).to_be_visible()

    # Create an organization.
    page.get_by_label("Name of the new organization").fill(ORG)
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_text(f"Created {ORG}; you are its owner.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Manage {ORG}")).to_be_visible()
    expect(cell(page, "Your role", ORG)).to_be_attached()
    shoot(page, "organizations")

    # Add the second user as a member.
    open_page(page, "Members", f"Members of {ORG}")
    page.locator(key("member_add_username")).get_by_label("User name").fill(MEMBER)
    choose(page, "member_add_role", "editor")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_text(f"Added {MEMBER} as editor.")).to_be_visible()
    expect(cell(page, "User", MEMBER)).to_be_attached()
    expect(cell(page, "Role", "editor")).to_be_attached()
    shoot(page, "members")

    # Add a price entry; its price is shown to the last decimal.
    open_page(page, "Price entries", f"Price entries of {ORG}")
    expect(page.get_by_text("No price entries yet. Add the first one")).to_be_visible()
    page.get_by_role("textbox", name="Coin", exact=True).fill("BTC")
    page.get_by_role("textbox", name="Price", exact=True).fill(EXACT_PRICE)
    page.get_by_role("button", name="Add entry").click()
    expect(page.get_by_text(f"Added BTC at {EXACT_PRICE}.")).to_be_visible()
    picker = page.locator(key("entry_delete_pick"))
    expect(picker.get_by_role("combobox")).to_have_value(
        re.compile(rf"BTC {re.escape(EXACT_PRICE)} at ")
    )
    expect(cell(page, "Price", EXACT_PRICE)).to_be_attached()
    shoot(page, "price-entries")

    # Delete it, through the confirmation dialog.
    page.get_by_role("button", name="Delete entry…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"BTC {EXACT_PRICE}")
    expect(dialog).to_contain_text("will be deleted for good")
    shoot(page, "price-entry-delete")
    dialog.get_by_role("button", name="Delete entry", exact=True).click()
    expect(page.get_by_text("Deleted entry #")).to_be_visible()
    expect(page.get_by_text("No price entries yet. Add the first one")).to_be_visible()
    expect(dialog).to_have_count(0)

    # The administrator's pages show what happened.
    open_page(page, "Users", "Users")
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    shoot(page, "admin-users")
    open_page(page, "Audit log", "Audit log")
    expect(cell(page, "What", "organization.created")).to_be_attached()
    expect(cell(page, "What", "member.added")).to_be_attached()
    shoot(page, "audit-log")

    # Sign out: the server revokes the sign-in and the browser drops the cookie.
    with page.expect_response(lambda r: "/api/session/logout/" in r.url) as logout:
        page.get_by_role("button", name="Sign out").click()
    assert logout.value.status == 200
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    expect(sign_in_heading).to_be_visible()
    assert session_cookies(browser_context) == []

    page.reload()
    settle(page)
    expect(sign_in_heading).to_be_visible()
    expect(signed_in).to_have_count(0)

    # The server revoked that sign-in: the old cookie, put back, signs no one in.
    browser_context.add_cookies([cookie])
    assert session_cookies(browser_context) == [cookie]
    page.reload()
    settle(page)
    expect(sign_in_heading).to_be_visible()
    expect(signed_in).to_have_count(0)

    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        support.publish(README_SHOTS, support.ROOT / "docs" / "screenshots")
