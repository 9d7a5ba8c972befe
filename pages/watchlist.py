"""The chosen organization's watchlist: search the catalogue, add, remove, backfill."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from crypto_dash.services import backfill as backfills
from crypto_dash.services import coins, watchlist
from crypto_dash.services.backfill import BackfillProgress, BackfillReport
from crypto_dash.services.coins import CoinView
from crypto_dash.services.watchlist import WatchedCoin
from pages import _shared as shared

logger = logging.getLogger(__name__)

SEARCH_LIMIT = 20
EMPTY_FOR_EDITORS = "No coins on the watchlist yet. Search the catalogue below."
EMPTY_FOR_VIEWERS = "No coins on the watchlist yet. An editor or owner can add them."
FIRST_PRICE = "A new coin gets its first price on the next fetch."
BACKFILL_DAYS = {
    "1 day": 1,
    "7 days": 7,
    "30 days": 30,
    "90 days": 90,
    "365 days": 364,  # the free plans give only the past 365 days, to the minute
}


def watch_table(frame: shared.Frame, items: list[WatchedCoin]) -> None:
    rows = [
        {
            "Coin": coin.name,
            "Symbol": coin.symbol.upper(),
            "CoinGecko id": coin.coin_id,
            "Rank": coin.market_cap_rank,
            f"Added ({frame.zone_name})": shared.show_time(coin.added_at, frame.zone),
        }
        for coin in items
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="watch_table")


def _choice_label(coin: CoinView) -> str:
    """Name, symbol, id, rank and market cap: enough to tell shared symbols apart."""
    rank = f"rank {coin.market_cap_rank}" if coin.market_cap_rank else "unranked"
    cap = shared.show_amount(coin.market_cap)
    return f"{coin.label} · {rank} · market cap {cap}"


def add_coin(frame: shared.Frame, coin_id: str, client: bool = False) -> None:
    org = frame.org
    assert org is not None

    def add() -> WatchedCoin:
        gecko = frame.runtime.coingecko() if client else None
        return watchlist.add_to_watchlist(
            frame.principal, frame.runtime.db, org.id, coin_id, client=gecko
        )

    added = shared.attempt(add)
    if added is not None:
        shared.note_prices_changed()
        shared.flash(
            f"Watching {added.name} ({added.symbol.upper()}, {added.coin_id}). "
            f"{FIRST_PRICE}"
        )
        st.rerun()


def search(frame: shared.Frame, catalogue: int) -> None:
    st.subheader("Add a coin")
    if not catalogue:
        st.info(
            "The coin catalogue is empty. Refresh it from CoinGecko below, or add "
            "a coin by its CoinGecko id."
            if frame.principal.is_admin
            else "The coin catalogue is empty: ask an administrator to refresh it "
            "from CoinGecko, or add a coin by its CoinGecko id."
        )
    query = st.text_input(
        "Search by name or symbol", placeholder="bitcoin or BTC", key="watch_search"
    )
    if not query.strip():
        return
    found = shared.attempt(
        lambda: coins.search_coins(
            frame.principal, frame.runtime.db, query, SEARCH_LIMIT
        )
    )
    if found is None:
        return
    if not found:
        st.info(
            f"No coin in the catalogue matches {query.strip()!r}. If it is a "
            "CoinGecko id, look it up on CoinGecko."
        )
        if st.button("Look it up on CoinGecko", key="watch_lookup"):
            add_coin(frame, query.strip(), client=True)
        return
    by_id = {coin.id: coin for coin in found}
    pick, action = st.columns([3, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(
        "Coin",
        list(by_id),
        format_func=lambda coin_id: _choice_label(by_id[coin_id]),
        key="watch_pick",
    )
    shared_symbols = sorted({c.symbol.upper() for c in found if c.symbol_shared})
    if shared_symbols:
        st.caption(
            f"Several coins use the symbol {', '.join(shared_symbols)}: check the "
            "name, rank, market cap and CoinGecko id before adding."
        )
    if action.button("Add to watchlist", key="watch_add") and chosen:
        add_coin(frame, chosen)


def remove(frame: shared.Frame, items: list[WatchedCoin]) -> None:
    org = frame.org
    assert org is not None
    by_id = {coin.coin_id: coin for coin in items}
    pick, action = st.columns([3, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(
        "Coin to stop watching",
        list(by_id),
        format_func=lambda coin_id: f"{by_id[coin_id].name} · {coin_id}",
        key="watch_remove_pick",
    )
    if action.button("Remove", key="watch_remove") and chosen:
        done = shared.succeeded(
            lambda: watchlist.remove_from_watchlist(
                frame.principal, frame.runtime.db, org.id, chosen
            )
        )
        if done:
            shared.note_prices_changed()
            shared.flash(f"Stopped watching {by_id[chosen].name}; its prices stay.")
            st.rerun()


def refresh_catalogue(frame: shared.Frame) -> None:
    if not st.button("Refresh the catalogue from CoinGecko", key="catalogue_refresh"):
        return

    def run() -> coins.CatalogueReport:
        return coins.refresh_catalogue(
            frame.principal,
            frame.runtime.db,
            frame.runtime.coingecko(),
            vs_currency=frame.runtime.settings.vs_currencies[0],
        )

    with st.spinner("Reading the coin list from CoinGecko…"):
        report = shared.attempt(run)
    if report is not None:
        shared.flash(
            f"The catalogue holds {report.coins_listed} coins, "
            f"{report.coins_ranked} of them ranked."
        )
        st.rerun()


def _backfill_message(report: BackfillReport) -> str:
    points = f"{report.points_written} points stored"
    if report.status == "ok":
        return f"Backfill done: {points}."
    reason = (report.error or report.status).rstrip(".")
    return (
        f"Backfill stopped ({report.status}): {reason}. {points}; "
        "run it again to resume."
    )


def backfill(frame: shared.Frame, items: list[WatchedCoin]) -> None:
    st.subheader("Backfill history")
    if not frame.principal.is_admin:
        st.caption("An administrator can backfill a coin's history from this page.")
        return
    by_id = {coin.coin_id: coin for coin in items}
    pick, days, currency = st.columns(3)
    chosen = pick.multiselect(
        "Coins",
        list(by_id),
        default=list(by_id)[:1],
        format_func=lambda coin_id: f"{by_id[coin_id].name} · {coin_id}",
        key="backfill_coins",
    )
    span = days.selectbox(
        "History of the past", list(BACKFILL_DAYS), key="backfill_days"
    )
    vs = currency.selectbox(
        "Currency",
        list(frame.runtime.settings.vs_currencies),
        format_func=str.upper,
        key="backfill_vs",
    )
    if not st.button("Backfill", key="backfill_start", disabled=not chosen):
        return
    bar = st.progress(0.0, text="Starting the backfill…")

    def show(step: BackfillProgress) -> None:
        bar.progress(
            step.fraction,
            text=f"{step.coin_id}: {step.points_written} points so far",
        )

    def run() -> BackfillReport:
        since = datetime.now(UTC) - timedelta(days=BACKFILL_DAYS[span or "1 day"])
        return backfills.backfill(
            frame.principal,
            frame.runtime.db,
            frame.runtime.coingecko(),
            chosen,
            vs or frame.runtime.settings.vs_currencies[0],
            since,
            progress=show,
        )

    report = shared.attempt(run)
    if report is None:
        return
    shared.note_prices_changed()
    bar.progress(1.0 if report.status == "ok" else bar_fraction(report))
    message = _backfill_message(report)
    if report.status == "ok":
        st.success(message)
    else:
        st.warning(message)


def bar_fraction(report: BackfillReport) -> float:
    done = sum(1 for job in report.jobs if job.status == "done")
    return done / max(1, len(report.jobs))


def render() -> None:
    frame = shared.frame()
    org = frame.org
    assert org is not None  # the page exists only when an organization is chosen
    shared.header(f"Watchlist of {org.name}")
    items = shared.load(
        lambda: watchlist.list_watchlist(frame.principal, frame.runtime.db, org.id)
    )
    if items:
        watch_table(frame, items)
        st.caption(f"{len(items)} coins watched. {FIRST_PRICE}")
    else:
        st.info(EMPTY_FOR_EDITORS if frame.can_edit else EMPTY_FOR_VIEWERS)
    if frame.can_edit:
        if items:
            remove(frame, items)
        catalogue = shared.load(
            lambda: coins.catalogue_size(frame.principal, frame.runtime.db)
        )
        search(frame, catalogue)
    if frame.principal.is_admin:
        refresh_catalogue(frame)
    if items:
        backfill(frame, items)


render()
