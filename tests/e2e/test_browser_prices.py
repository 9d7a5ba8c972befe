"""Debian's Chromium against the real server and the fake CoinGecko: prices.

An administrator adds a coin found in the catalogue, fetches its price, sees it
on the dashboard and in the history chart, and downloads it as CSV. Screenshots
land in tests/e2e/artifacts/ (git-ignored); with UPDATE_SCREENSHOTS=1 the
README's ones in docs/screenshots/ are refreshed too.
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
from datetime import datetime
from decimal import Decimal
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import pytest

from tests.e2e import browser_support as support
from tests.e2e.browser_support import cell, choose, key, open_page, settle, shoot
from tests.fake_coingecko import FakeCoinGecko, price_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN = "root"
PASSWORD = "correct horse"
ORG = "Acme Desk"
ZONE = "Europe/Paris"
PLOTLY_DRAWN = "[data-testid='stPlotlyChart'] .js-plotly-plot .main-svg"
README_SHOTS = ["dashboard", "watchlist", "price-history", "price-history-candles"]


@pytest.fixture
def fake():
    # The fake's clock stands still, so the price it quotes is known in advance.
    with FakeCoinGecko(now=time.time()) as server:
        yield server


@pytest.fixture
def server_env(tmp_path, fake):
    support.require_browser()
    env = support.server_env(tmp_path) | {
        "CRYPTO_DASH_COINGECKO_BASE_URL": fake.base_url,
        "CRYPTO_DASH_COINGECKO_CALLS_PER_MINUTE": "6000",
    }
    support.cli(env, "create-admin", ADMIN, "--password-stdin", password=PASSWORD)
    support.cli(env, "create-org", ORG, "--owner", ADMIN)
    return env


@pytest.fixture
def browser_context():
    with support.browser_context(timezone_id=ZONE) as context:
        yield context


def quoted_price(fake: FakeCoinGecko, coin_id: str) -> tuple[str, int]:
    """The exact decimal the fake quotes for ``coin_id`` now, and its epoch time."""
    at = fake.clock() // 60 * 60
    return format(Decimal(repr(price_of(coin_id, "usd", at))), "f"), at


def signed_in_page(context, base_url: str):
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(base_url)
    settle(page)
    support.sign_in(page, ADMIN, PASSWORD)
    expect(page.get_by_text(f"Signed in as {ADMIN}")).to_be_visible()
    settle(page)
    return page


def test_an_admin_adds_a_coin_fetches_its_price_and_downloads_its_history(
    server_env, fake, tmp_path, browser_context
):
    from playwright.sync_api import expect

    price, observed = quoted_price(fake, "bitcoin")
    with support.running_server(server_env, tmp_path / "server.log") as server:
        page = signed_in_page(browser_context, server.base_url)

        # Fill the empty catalogue from the fake CoinGecko.
        open_page(page, "Watchlist", f"Watchlist of {ORG}")
        expect(page.get_by_text("The coin catalogue is empty.")).to_be_visible()
        page.get_by_role("button", name="Refresh the catalogue from CoinGecko").click()
        expect(
            page.get_by_text(re.compile(r"The catalogue holds 12 coins"))
        ).to_be_visible()

        # Search by symbol: two coins share BTC; add the real Bitcoin.
        search = page.locator(key("watch_search")).get_by_role("textbox")
        search.fill("btc")
        search.press("Enter")
        expect(page.get_by_text("Several coins use the symbol BTC")).to_be_visible()
        choose(page, "watch_pick", re.compile(r"^Bitcoin \(BTC\) · bitcoin · rank 1 "))
        page.get_by_role("button", name="Add to watchlist").click()
        expect(page.get_by_text("Watching Bitcoin (BTC, bitcoin).")).to_be_visible()
        expect(cell(page, "CoinGecko id", "bitcoin")).to_be_attached()

        # Nothing fetches on its own (the scheduler is off): fetch now.
        open_page(page, "Scheduler", "Scheduler")
        page.get_by_role("button", name="Fetch now").click()
        expect(
            page.get_by_text(re.compile(r"^Fetch run #\d+ finished: prices are up to"))
        ).to_be_visible()
        expect(cell(page, "Status", "ok")).to_be_attached()

        # The dashboard shows the exact decimal the fake quoted.
        open_page(page, "Dashboard", f"Dashboard of {ORG}")
        expect(cell(page, "Price (USD)", price)).to_be_attached()

        # Its history: a plotly chart is drawn, with a link to the CSV.
        open_page(page, "Price history", f"Price history of {ORG}")
        expect(page.locator(PLOTLY_DRAWN).first).to_be_visible()
        link = page.get_by_role("link", name="Download the raw prices as CSV")
        href = link.get_attribute("href")
        assert href is not None and href.startswith("/api/export/prices.csv?")

        # Follow the link with the browser's sign-in cookie.
        answer = browser_context.request.get(urljoin(server.base_url, href))
        assert answer.status == 200, answer.text()
        assert answer.headers["content-type"].startswith("text/csv")
        assert "attachment" in answer.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(answer.text())))

    local = datetime.fromtimestamp(observed, ZoneInfo(ZONE))
    assert rows == [
        [
            "coin_id",
            "symbol",
            "vs_currency",
            f"observed_at ({ZONE})",
            "price",
            "source",
        ],
        ["bitcoin", "btc", "usd", local.isoformat(), price, rows[1][5]],
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", rows[1][3])
    assert rows[1][5]  # where the price came from


def test_a_backfilled_month_shows_on_the_dashboard_and_in_the_charts(
    server_env, tmp_path, browser_context
):
    from playwright.sync_api import expect

    support.cli(server_env, "refresh-coins")
    support.cli(server_env, "watch", ORG, "bitcoin", "ethereum", "solana", "tether")
    support.cli(server_env, "backfill", "bitcoin", "ethereum", "solana", "--days", "30")
    support.cli(server_env, "fetch")
    with support.running_server(server_env, tmp_path / "server.log") as server:
        page = signed_in_page(browser_context, server.base_url)

        # Every coin has a price; the backfilled ones have a 7-day sparkline.
        open_page(page, "Dashboard", f"Dashboard of {ORG}")
        for coin_id in ("bitcoin", "ethereum", "solana", "tether"):
            expect(cell(page, "CoinGecko id", coin_id)).to_be_attached()
        expect(page.get_by_text("no price yet")).to_have_count(0)
        shoot(page, "dashboard")

        open_page(page, "Watchlist", f"Watchlist of {ORG}")
        search = page.locator(key("watch_search")).get_by_role("textbox")
        search.fill("btc")
        search.press("Enter")
        expect(page.get_by_text("Several coins use the symbol BTC")).to_be_visible()
        shoot(page, "watchlist", full_page=True)

        # A month of Bitcoin as a line, with its change over the range.
        open_page(page, "Price history", f"Price history of {ORG}")
        page.locator(key("hist_range")).get_by_text("30d", exact=True).click()
        settle(page)
        expect(page.get_by_test_id("stMetric")).to_contain_text("BTC over the range")
        expect(
            page.get_by_text(re.compile(r"^One point per \d+ (min|h)"))
        ).to_be_visible()
        expect(page.locator(PLOTLY_DRAWN).first).to_be_visible()
        shoot(page, "price-history", full_page=True)

        # The same month as candles (the backfill stored one point an hour).
        page.locator(key("hist_kind")).get_by_text("Candlestick", exact=True).click()
        settle(page)
        expect(page.get_by_text(f"Time ({ZONE}), candle start")).to_be_visible()
        shoot(page, "price-history-candles", full_page=True)

        open_page(page, "Scheduler", "Scheduler")
        expect(cell(page, "Kind", "backfill").first).to_be_attached()
        shoot(page, "scheduler")

    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        support.publish(
            [*README_SHOTS, "scheduler"], support.ROOT / "docs" / "screenshots"
        )
