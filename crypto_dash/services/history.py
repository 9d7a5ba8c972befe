"""Price history for charts: OHLC buckets computed in SQL, a few thousand at most.

Buckets are whole multiples of a "nice" width (5 minutes, 1 hour, 1 day, ...)
counted from the Unix epoch, so a bucket's start is ``observed_at // width *
width``. High and low come from MIN and MAX over ``price_float``; open and close
are the prices at the first and last observation in the bucket, found by joining
the bucket's MIN and MAX ``observed_at`` back onto the unique key. A bucket with
no observation has no row: gaps stay gaps, and ``bucket_seconds`` tells the
chart how far apart neighbouring buckets should be.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Coin, MarketPrice, Role, WatchlistItem
from crypto_dash.errors import NotFound, ValidationError
from crypto_dash.services.organizations import _load
from crypto_dash.services.principal import Principal, require_role

logger = logging.getLogger(__name__)

MINUTE, HOUR, DAY = 60, 3600, 86400
NICE_WIDTHS = (
    (1, 5, 10, 15, 30)
    + tuple(m * MINUTE for m in (1, 2, 5, 10, 15, 30))
    + tuple(h * HOUR for h in (1, 2, 3, 4, 6, 8, 12))
    + tuple(d * DAY for d in (1, 2, 3, 7, 14, 30))
)
CANDLE_POINTS = 300
COLUMNS = ["bucket_start", "open", "high", "low", "close", "count"]
GAP_FACTOR = 3
_CURRENCY = re.compile(r"^[a-z0-9]{2,10}$")


@dataclass(frozen=True)
class CoinRef:
    id: str
    symbol: str
    name: str


@dataclass(frozen=True)
class PriceSeries:
    """One coin's buckets: ``frame`` has bucket_start (UTC), open, high, low,
    close (floats) and count, oldest first, one row per non-empty bucket."""

    coin: CoinRef
    frame: pd.DataFrame

    @property
    def change_pct(self) -> float | None:
        """Percent change over the range, first bucket's close to the last's.

        Measured like ``PriceHistory.rebased``, so the figure matches the chart.
        """
        if self.frame.empty:
            return None
        first = float(self.frame["close"].iloc[0])
        last = float(self.frame["close"].iloc[-1])
        return (last / first - 1.0) * 100.0 if first else None


@dataclass(frozen=True)
class PriceHistory:
    vs_currency: str
    start: datetime
    end: datetime
    bucket_seconds: int
    series: list[PriceSeries]

    def rebased(self) -> pd.DataFrame:
        """Closes rebased to 100 at each coin's first bucket, one column per coin."""
        columns = {}
        for item in self.series:
            if item.frame.empty:
                continue
            closes = item.frame.set_index("bucket_start")["close"]
            base = float(closes.iloc[0])
            if base:
                columns[item.coin.id] = closes / base * 100.0
        frame = pd.DataFrame(columns)
        frame.index.name = "bucket_start"
        return frame.sort_index()


def choose_bucket_seconds(start: int, end: int, max_points: int) -> int:
    """The narrowest nice width that keeps [start, end) within ``max_points``."""
    if max_points < 1:
        raise ValidationError.for_field("max_points", "Ask for at least one point.")
    span = max(end - start, 1)
    for width in NICE_WIDTHS:
        if _bucket_count(start, end, width) <= max_points:
            return width
    width = math.ceil(span / max(max_points - 1, 1) / DAY) * DAY
    while _bucket_count(start, end, width) > max_points:
        width += DAY
    return width


def _bucket_count(start: int, end: int, width: int) -> int:
    return (end - 1) // width - start // width + 1


def price_history(
    actor: Principal,
    db: Database,
    org_id: uuid.UUID | str,
    coin_ids: Sequence[str] | None,
    vs_currency: str,
    start: datetime | None,
    end: datetime | None,
    *,
    max_points: int = 2000,
    candles: bool = False,
) -> PriceHistory:
    """Bucketed OHLC history of the organization's watchlist coins.

    ``coin_ids`` None or empty means the whole watchlist; a coin the
    organization does not watch is reported missing. ``start`` None means
    from the first stored point, ``end`` None means now; the range is
    half-open. ``candles`` caps the series at ``CANDLE_POINTS`` so that each
    candle stays wide enough to read.
    """
    vs_currency = clean_currency(vs_currency)
    limit = min(max_points, CANDLE_POINTS) if candles else max_points
    with db.read_session() as session:
        org = _load(session, org_id)
        require_role(session, actor, org.id, Role.VIEWER, "see its prices")
        coins = watched_coins(session, org.id, coin_ids)
        ids = [coin.id for coin in coins]
        lo, hi = _epoch_range(session, ids, vs_currency, start, end)
        width = choose_bucket_seconds(lo, hi, limit)
        frames = query_buckets(session, ids, vs_currency, lo, hi, width)
    logger.debug(
        "history of %s in %s: %s buckets of %ss", ids, vs_currency, len(frames), width
    )
    series = [
        PriceSeries(coin, frames[coin.id] if coin.id in frames else _empty())
        for coin in coins
    ]
    return PriceHistory(vs_currency, _aware(lo), _aware(hi), width, series)


def clean_currency(raw: str) -> str:
    value = str(raw or "").strip().lower()
    if not _CURRENCY.match(value):
        raise ValidationError.for_field(
            "vs_currency", "The currency must be a short code such as usd or eur."
        )
    return value


def watched_coins(
    session: Session, org_id: uuid.UUID, coin_ids: Sequence[str] | None
) -> list[CoinRef]:
    """The organization's watchlist coins, or the asked-for subset of them."""
    query = (
        sa.select(Coin.id, Coin.symbol, Coin.name)
        .join(WatchlistItem, WatchlistItem.coin_id == Coin.id)
        .where(WatchlistItem.organization_id == org_id)
    )
    wanted = list(dict.fromkeys(coin_ids or ()))
    if wanted:
        query = query.where(Coin.id.in_(wanted))
    rows = session.execute(query.order_by(Coin.id)).all()
    coins = {row.id: CoinRef(row.id, row.symbol, row.name) for row in rows}
    missing = [coin_id for coin_id in wanted if coin_id not in coins]
    if missing:
        raise NotFound(f"{missing[0]!r} is not on this organization's watchlist.")
    return [coins[c] for c in wanted] if wanted else list(coins.values())


def _epoch_range(
    session: Session,
    ids: list[str],
    vs_currency: str,
    start: datetime | None,
    end: datetime | None,
) -> tuple[int, int]:
    hi = _epoch(end) if end is not None else int(datetime.now(UTC).timestamp()) + 1
    if start is not None:
        lo = _epoch(start)
    else:
        first = session.scalar(
            sa.select(sa.func.min(MarketPrice.observed_at)).where(
                MarketPrice.coin_id.in_(ids), MarketPrice.vs_currency == vs_currency
            )
        )
        lo = int(first) if first is not None else hi - DAY
    if lo >= hi:
        raise ValidationError.for_field("start", "The range must end after it starts.")
    return lo, hi


def _epoch(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValidationError.for_field("start", "Give times with their time zone.")
    return math.floor(value.timestamp())


def _aware(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def query_buckets(
    session: Session,
    coin_ids: Sequence[str],
    vs_currency: str,
    start: int,
    end: int,
    width: int,
) -> dict[str, pd.DataFrame]:
    """OHLC per coin and bucket of ``width`` seconds over [start, end)."""
    if not coin_ids:
        return {}
    if session.get_bind().dialect.name == "sqlite":
        rows = _sqlite_buckets(session, coin_ids, vs_currency, start, end, width)
    else:
        rows = _grouped_buckets(session, coin_ids, vs_currency, start, end, width)
    return _frames(rows, width)


# SQLite has no hash aggregate: a GROUP BY over the bucket sorts every point in
# a temporary B-tree, which costs more than reading the rows out. So on SQLite
# the buckets come from a recursive CTE and each is read by index range
# subqueries: open and close are one seek each, and high, low and count share
# one range scan, packed into one text value because a scalar subquery returns
# one column. %!.17g keeps every bit of the float (plain %g stops at 16 digits).
_SQLITE_BUCKETS = sa.text(
    """
    WITH RECURSIVE b(s) AS (
        SELECT :first UNION ALL SELECT s + :width FROM b WHERE s + :width < :end
    )
    SELECT c.id, b.s / :width,
        (SELECT p.price_float FROM market_prices p
          WHERE p.coin_id = c.id AND p.vs_currency = :vs
            AND p.observed_at >= max(b.s, :start) AND p.observed_at < b.s + :width
            AND p.observed_at < :end
          ORDER BY p.observed_at LIMIT 1),
        (SELECT printf('%!.17g %!.17g %d', max(p.price_float), min(p.price_float),
                       count(*))
           FROM market_prices p
          WHERE p.coin_id = c.id AND p.vs_currency = :vs
            AND p.observed_at >= max(b.s, :start) AND p.observed_at < b.s + :width
            AND p.observed_at < :end),
        (SELECT p.price_float FROM market_prices p
          WHERE p.coin_id = c.id AND p.vs_currency = :vs
            AND p.observed_at >= max(b.s, :start) AND p.observed_at < b.s + :width
            AND p.observed_at < :end
          ORDER BY p.observed_at DESC LIMIT 1)
    FROM coins c, b
    WHERE c.id IN :coins
    ORDER BY c.id, b.s
    """
).bindparams(sa.bindparam("coins", expanding=True))


def _sqlite_buckets(
    session: Session,
    coin_ids: Sequence[str],
    vs_currency: str,
    start: int,
    end: int,
    width: int,
) -> list[tuple[object, ...]]:
    params = {
        "coins": list(coin_ids),
        "vs": vs_currency,
        "start": start,
        "end": end,
        "first": start // width * width,
        "width": width,
    }
    rows = []
    for coin_id, bucket, open_, packed, close in session.execute(
        _SQLITE_BUCKETS, params
    ):
        if open_ is None:
            continue
        high, low, count = packed.split()
        rows.append((coin_id, bucket, open_, float(high), float(low), close, count))
    return rows


def _grouped_buckets(
    session: Session,
    coin_ids: Sequence[str],
    vs_currency: str,
    start: int,
    end: int,
    width: int,
) -> list[tuple[object, ...]]:
    points = (
        sa.select(
            MarketPrice.coin_id,
            (MarketPrice.observed_at // width).label("bucket"),
            MarketPrice.observed_at,
            MarketPrice.price_float,
        )
        .where(
            MarketPrice.coin_id.in_(list(coin_ids)),
            MarketPrice.vs_currency == vs_currency,
            MarketPrice.observed_at >= start,
            MarketPrice.observed_at < end,
        )
        .subquery()
    )
    buckets = (
        sa.select(
            points.c.coin_id,
            points.c.bucket,
            sa.func.min(points.c.observed_at).label("first_at"),
            sa.func.max(points.c.observed_at).label("last_at"),
            sa.func.max(points.c.price_float).label("high"),
            sa.func.min(points.c.price_float).label("low"),
            sa.func.count().label("count"),
        )
        .group_by(points.c.coin_id, points.c.bucket)
        .subquery()
    )
    opening, closing = aliased(MarketPrice), aliased(MarketPrice)
    query = (
        sa.select(
            buckets.c.coin_id,
            buckets.c.bucket,
            opening.price_float,
            buckets.c.high,
            buckets.c.low,
            closing.price_float,
            buckets.c.count,
        )
        .join(opening, _same_point(opening, buckets, buckets.c.first_at, vs_currency))
        .join(closing, _same_point(closing, buckets, buckets.c.last_at, vs_currency))
        .order_by(buckets.c.coin_id, buckets.c.bucket)
    )
    return [tuple(row) for row in session.execute(query)]


def _same_point(
    alias: type[MarketPrice],
    buckets: sa.Subquery,
    observed_at: sa.ColumnElement[int],
    vs_currency: str,
) -> sa.ColumnElement[bool]:
    return sa.and_(
        alias.coin_id == buckets.c.coin_id,
        alias.vs_currency == vs_currency,
        alias.observed_at == observed_at,
    )


def _frames(rows: list[tuple[object, ...]], width: int) -> dict[str, pd.DataFrame]:
    """One frame per coin from rows ordered by coin, then bucket."""
    return {
        str(coin_id): _frame(list(group), width)
        for coin_id, group in itertools.groupby(rows, key=lambda row: row[0])
    }


def _frame(rows: list[tuple[object, ...]], width: int) -> pd.DataFrame:
    _, buckets, opens, highs, lows, closes, counts = zip(*rows, strict=True)
    starts = np.asarray(buckets, dtype="int64") * width
    return pd.DataFrame(
        {
            "bucket_start": pd.to_datetime(starts, unit="s", utc=True),
            "open": np.asarray(opens, dtype=float),
            "high": np.asarray(highs, dtype=float),
            "low": np.asarray(lows, dtype=float),
            "close": np.asarray(closes, dtype=float),
            "count": np.asarray(counts, dtype="int64"),
        }
    )


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype=float) for name in COLUMNS})
    frame["bucket_start"] = pd.to_datetime(frame["bucket_start"], utc=True)
    frame["count"] = frame["count"].astype(int)
    return frame


def with_gap_breaks(frame: pd.DataFrame, bucket_seconds: int) -> pd.DataFrame:
    """Insert an all-NaN row inside each gap, so that a line chart breaks there.

    A gap is a step between buckets more than ``GAP_FACTOR`` times the usual
    step around it (the rolling median, never less than one bucket), so a
    series that is hourly or daily from a backfill is not broken everywhere.
    """
    if len(frame) < 2:
        return frame
    times = frame["bucket_start"]
    steps = times.diff().dt.total_seconds()
    usual = steps.rolling(9, center=True, min_periods=1).median()
    usual = usual.clip(lower=bucket_seconds)
    gaps = steps > usual * GAP_FACTOR
    if not gaps.any():
        return frame
    breaks = frame.loc[gaps].copy()
    breaks["bucket_start"] = times[gaps] - pd.to_timedelta(bucket_seconds, unit="s")
    for name in ("open", "high", "low", "close"):
        breaks[name] = float("nan")
    breaks["count"] = 0
    merged = pd.concat([frame, breaks]).sort_values("bucket_start", kind="stable")
    return merged.reset_index(drop=True)
