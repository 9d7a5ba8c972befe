"""The chosen organization's coins: latest price, 24h change, sparkline, freshness.

The live panel is a fragment that reruns on its own every ``REFRESH_SECONDS``
and reads through short caches, so many open tabs cost one query per interval.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from crypto_dash.db.engine import Database
from crypto_dash.services import market
from crypto_dash.services.market import FeedStatus, LatestPrice
from crypto_dash.services.principal import Principal
from pages import _shared as shared

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 30
CACHE_SECONDS = 20
EMPTY_FOR_EDITORS = (
    "No coins on the watchlist yet. Add some on the Watchlist page; each gets "
    "its first price on the next fetch."
)
EMPTY_FOR_VIEWERS = (
    "No coins on the watchlist yet. An editor or owner can add them on the "
    "Watchlist page."
)
NO_PRICE = "no price yet"


# Caching and tenant safety. The key holds the organization, the currency AND
# the user's id, and the service is called with the real principal inside, so
# every cached value was produced by a call that passed that very user's
# permission check for that very organization: no user, and no organization,
# can ever be served another's entry. All tabs of one user share one query per
# CACHE_SECONDS; a withdrawn membership takes effect within CACHE_SECONDS. We
# did not share one entry between all members (check first, then read a cache
# keyed by organization only), because the read would then have to run as the
# system principal from a page. The principal and database are not hashed
# (leading underscore); the user id in the key stands for the principal.
# ``changes`` counts this session's own edits (a coin added, "fetch now"), so
# that the user sees them at once; a tab that made none shares the entry.
@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False, max_entries=1000)
def cached_prices(
    org_id: str,
    vs_currency: str,
    user_id: str,
    changes: int,
    _principal: Principal,
    _db: Database,
) -> list[LatestPrice]:
    return market.latest_prices(_principal, _db, org_id, vs_currency)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False, max_entries=1000)
def cached_feed(
    user_id: str, changes: int, _principal: Principal, _db: Database
) -> FeedStatus:
    return market.feed_status(_principal, _db)


def banner(feed: FeedStatus) -> None:
    """Say so when the last fetch failed, was rate-limited or never ran."""
    problem = feed.problem
    if problem is None:
        return
    if feed.last_status == "failed":
        st.error(problem)
    else:
        st.warning(problem)


def sparkline(values: tuple[float | None, ...]) -> list[float | None] | None:
    """The 7-day line, or None (an empty cell) while it has under two points.

    The grid cannot draw a line of one point: it showed a row of commas.
    """
    return list(values) if sum(v is not None for v in values) >= 2 else None


def price_table(frame: shared.Frame, prices: list[LatestPrice], vs: str) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "Coin": price.name,
            "Symbol": price.symbol.upper(),
            "CoinGecko id": price.coin_id,
            f"Price ({vs.upper()})": price.price_text or NO_PRICE,
            # The age is measured now, not when the cached value was read; it
            # sits beside the price so that a stale price is seen with it.
            "Age": shared.show_age(
                None if price.observed_at is None else now - price.observed_at
            ),
            "24h change (%)": price.change_24h_pct,
            f"Market cap ({vs.upper()})": shared.show_amount(price.market_cap),
            "7 days": sparkline(price.sparkline),
            f"Updated ({frame.zone_name})": shared.show_optional_time(
                price.observed_at, frame.zone
            ),
        }
        for price in prices
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        key="dash_table",
        column_config={
            "24h change (%)": st.column_config.NumberColumn(format="%+.2f"),
            "7 days": st.column_config.LineChartColumn("7 days", width="medium"),
        },
    )


@st.fragment(run_every=REFRESH_SECONDS)
def live_panel(frame: shared.Frame, org_id: str, vs: str) -> None:
    user = str(frame.principal.user_id)
    # This session's own changes (a coin added, "fetch now") show at once.
    changes = shared.prices_changed()
    feed = shared.load(
        lambda: cached_feed(user, changes, frame.principal, frame.runtime.db)
    )
    banner(feed)
    prices = shared.load(
        lambda: cached_prices(
            org_id, vs, user, changes, frame.principal, frame.runtime.db
        )
    )
    if not prices:
        st.info(EMPTY_FOR_EDITORS if frame.can_edit else EMPTY_FOR_VIEWERS)
        return
    price_table(frame, prices, vs)
    waiting = [p.symbol.upper() for p in prices if p.price is None]
    if waiting:
        st.caption(
            f"{', '.join(waiting)}: {NO_PRICE}; the first price comes with the "
            "next fetch."
        )
    last = shared.show_optional_time(feed.last_success_at, frame.zone)
    st.caption(
        f"Last successful fetch: {last} ({frame.zone_name}). "
        f"This panel refreshes every {REFRESH_SECONDS} s."
    )


def render() -> None:
    frame = shared.frame()
    org = frame.org
    assert org is not None  # the page exists only when an organization is chosen
    shared.header(f"Dashboard of {org.name}")
    currencies = list(frame.runtime.settings.vs_currencies)
    vs = st.selectbox("Currency", currencies, format_func=str.upper, key="dash_vs")
    live_panel(frame, str(org.id), vs or currencies[0])


render()
