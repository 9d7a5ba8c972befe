"""Price history of the watchlist: lines or candlesticks, compared, exported.

Buckets come from SQL (``history.price_history``), so no series carries more
than ``MAX_POINTS`` points whatever the range; gaps in the data stay gaps.
Times are shown as wall-clock times in the viewer's zone, named on the axis.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, tzinfo
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from crypto_dash.server.export_route import EXPORT_PATH
from crypto_dash.services import export, history, watchlist
from crypto_dash.services.history import PriceHistory
from crypto_dash.services.watchlist import WatchedCoin
from pages import _shared as shared

logger = logging.getLogger(__name__)

# A little under 2,000, so the NaN rows that break lines at gaps fit too.
MAX_POINTS = 1800
RANGES: dict[str, timedelta | None] = {
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "1y": timedelta(days=365),
    "All": None,
}
CUSTOM = "Custom dates"
LINE, CANDLES = "Line", "Candlestick"


def choose_range(frame: shared.Frame) -> tuple[datetime | None, datetime | None]:
    """The chosen range as UTC bounds; None means open at that end."""
    picked = st.radio(
        "Range", [*RANGES, CUSTOM], index=1, horizontal=True, key="hist_range"
    )
    if picked != CUSTOM:
        span = RANGES[picked or "7d"]
        return (None if span is None else datetime.now(UTC) - span), None
    today = datetime.now(frame.zone).date()
    since, until = st.columns(2)
    first = since.date_input(
        "From", today - timedelta(days=30), key="hist_from", max_value=today
    )
    last = until.date_input("To (included)", today, key="hist_to", max_value=today)
    return shared.day_start(first, frame.zone), shared.day_end(last, frame.zone)


def _wall_clock(times: pd.Series, zone: tzinfo) -> pd.Series:
    """UTC times as naive wall-clock times in ``zone`` (plotly has no zones)."""
    return times.dt.tz_convert(zone).dt.tz_localize(None)


def line_figure(found: PriceHistory, frame: shared.Frame, rebased: bool) -> go.Figure:
    figure = go.Figure()
    for item in found.series:
        if item.frame.empty:
            continue
        points = history.with_gap_breaks(item.frame, found.bucket_seconds)
        values = points["close"]
        if rebased:
            values = values / float(item.frame["close"].iloc[0]) * 100.0
        figure.add_trace(
            go.Scattergl(
                x=_wall_clock(points["bucket_start"], frame.zone),
                y=values,
                mode="lines",
                name=f"{item.coin.symbol.upper()} · {item.coin.id}",
                connectgaps=False,
            )
        )
    vs = found.vs_currency.upper()
    figure.update_layout(
        xaxis_title=f"Time ({frame.zone_name})",
        yaxis_title=(
            "Close, rebased to 100 at the start" if rebased else f"Close ({vs})"
        ),
        hovermode="x unified",
    )
    return figure


def candle_figure(found: PriceHistory, frame: shared.Frame) -> go.Figure:
    (item,) = found.series
    figure = go.Figure(
        go.Candlestick(
            x=_wall_clock(item.frame["bucket_start"], frame.zone),
            open=item.frame["open"],
            high=item.frame["high"],
            low=item.frame["low"],
            close=item.frame["close"],
            name=f"{item.coin.symbol.upper()} · {item.coin.id}",
        )
    )
    figure.update_layout(
        xaxis_title=f"Time ({frame.zone_name}), candle start",
        yaxis_title=f"Price ({found.vs_currency.upper()})",
        xaxis_rangeslider_visible=False,
    )
    return figure


def changes(found: PriceHistory) -> None:
    """The % change over the range of each coin, first close to last."""
    shown = [item for item in found.series if item.change_pct is not None]
    if not shown:
        return
    for column, item in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(
            f"{item.coin.symbol.upper()} over the range",
            f"{item.change_pct:+.2f}%",
        )


def export_url(frame: shared.Frame, found: PriceHistory) -> str:
    """The CSV route for the raw points behind the chart: same coins, same range."""
    assert frame.org is not None
    query = [("org", str(frame.org.id))]
    query += [("coin", item.coin.id) for item in found.series]
    query += [
        ("from", found.start.astimezone(UTC).isoformat()),
        ("to", found.end.astimezone(UTC).isoformat()),
        ("tz", frame.zone_name),
    ]
    return f"{EXPORT_PATH}?{urlencode(query)}"


def _bucket_width(seconds: int) -> str:
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            plural = "s" if unit == "day" and count > 1 else ""
            return f"{count} {unit}{plural}"
    return f"{seconds} s"


def pick_coins(items: list[WatchedCoin]) -> list[str]:
    by_id = {coin.coin_id: coin for coin in items}
    chosen = st.multiselect(
        "Coins",
        list(by_id),
        default=list(by_id)[:1],
        format_func=lambda coin_id: (
            f"{by_id[coin_id].name} ({by_id[coin_id].symbol.upper()}) · {coin_id}"
        ),
        key="hist_coins",
    )
    return list(chosen)


def render() -> None:
    frame = shared.frame()
    org = frame.org
    assert org is not None  # the page exists only when an organization is chosen
    shared.header(f"Price history of {org.name}")
    items = shared.load(
        lambda: watchlist.list_watchlist(frame.principal, frame.runtime.db, org.id)
    )
    if not items:
        st.info(
            "No coins on the watchlist yet. Add some on the Watchlist page, then "
            "come back for their history."
        )
        return
    chosen = pick_coins(items)
    settings, kind_column = st.columns([1, 2])
    vs = settings.selectbox(
        "Currency",
        list(frame.runtime.settings.vs_currencies),
        format_func=str.upper,
        key="hist_vs",
    )
    kind = kind_column.radio("Chart", [LINE, CANDLES], horizontal=True, key="hist_kind")
    start, end = choose_range(frame)
    if not chosen:
        st.info("Choose one or more coins to see their history.")
        return
    candles = kind == CANDLES and len(chosen) == 1
    if kind == CANDLES and not candles:
        st.caption("Candlesticks show one coin at a time; here is the comparison.")
    found = shared.load(
        lambda: history.price_history(
            frame.principal,
            frame.runtime.db,
            org.id,
            chosen,
            vs or frame.runtime.settings.vs_currencies[0],
            start,
            end,
            max_points=MAX_POINTS,
            candles=candles,
        )
    )
    if all(item.frame.empty for item in found.series):
        st.info(
            "No stored prices in this range. Choose a longer range, or ask an "
            "administrator to backfill these coins on the Watchlist page."
        )
        return
    changes(found)
    figure = (
        candle_figure(found, frame)
        if candles
        else line_figure(found, frame, rebased=len(chosen) > 1)
    )
    st.plotly_chart(figure, key="hist_chart", width="stretch")
    st.caption(
        f"One point per {_bucket_width(found.bucket_seconds)}; gaps in the data "
        "stay gaps."
    )
    raw, shown = st.columns(2)
    raw.link_button(
        "Download the raw prices as CSV", export_url(frame, found), key="hist_export"
    )
    shown.download_button(
        "Download the chart's buckets as CSV",
        export.buckets_csv(found, frame.zone),
        file_name="crypto-dash-chart.csv",
        mime="text/csv",
        key="hist_buckets",
        on_click="ignore",
    )


render()
