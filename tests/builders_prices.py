"""Builders for coins, watchlists, market prices and fetch runs, written directly."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Coin, FetchRun, MarketPrice, WatchlistItem

YEAR_START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
FIVE_MINUTES = 300


def add_coin(db: Database, coin_id: str, symbol: str | None = None) -> None:
    with db.session() as session:
        session.add(
            Coin(id=coin_id, symbol=symbol or coin_id[:3], name=coin_id.title())
        )


def watch(db: Database, org_id: object, *coin_ids: str) -> None:
    with db.session() as session:
        for coin_id in coin_ids:
            session.add(WatchlistItem(organization_id=org_id, coin_id=coin_id))


def add_points(
    db: Database,
    coin_id: str,
    points: Iterable[tuple[int, str | Decimal]],
    *,
    vs_currency: str = "usd",
    source: str = "test",
    change_24h_pct: float | None = None,
    market_cap: str | None = None,
) -> None:
    """Store (epoch seconds, exact price) points for one coin."""
    rows = [
        {
            "coin_id": coin_id,
            "vs_currency": vs_currency,
            "observed_at": when,
            "price": Decimal(str(price)),
            "price_float": float(price),
            "market_cap": Decimal(market_cap) if market_cap else None,
            "change_24h_pct": change_24h_pct,
            "source": source,
            "fetched_at": when,
        }
        for when, price in points
    ]
    with db.session() as session:
        for start in range(0, len(rows), 50_000):
            session.execute(sa.insert(MarketPrice), rows[start : start + 50_000])


def synthetic_price(i: int) -> str:
    """A deterministic, wandering exact price for the i-th point."""
    return f"{1000 + (i * 7919) % 5003}.{i % 100_000:05d}"


def add_series_in_sql(
    db: Database, coin_id: str, count: int, *, start: int = YEAR_START
) -> None:
    """Insert ``count`` five-minute points generated inside the database."""
    if db.dialect == "postgresql":
        numbers = "SELECT CAST(g AS bigint) AS i FROM generate_series(0, :n - 1) AS g"
        price = (
            "CAST((1000 + (i * 7919) % 5003) || '.'"
            " || lpad(CAST(i % 100000 AS text), 5, '0') AS numeric)"
        )
        prefix = f"WITH nums AS ({numbers})"
    else:
        numbers = "SELECT 0 AS i UNION ALL SELECT i + 1 FROM nums WHERE i + 1 < :n"
        price = (
            "(1000 + (i * 7919) % 5003) || '.' || substr('0000' || (i % 100000), -5)"
        )
        prefix = f"WITH RECURSIVE nums(i) AS ({numbers})"
    statement = sa.text(
        f"{prefix} INSERT INTO market_prices (coin_id, vs_currency, observed_at,"
        " price, price_float, source, fetched_at)"
        f" SELECT :coin, 'usd', :start + i * 300, {price},"
        " 1000 + (i * 7919) % 5003 + (i % 100000) / 100000.0, 'test', :start"
        " FROM nums"
    )
    with db.session() as session:
        session.execute(statement, {"n": count, "coin": coin_id, "start": start})


def add_fetch_run(
    db: Database,
    status: str,
    started_at: datetime,
    *,
    error: str | None = None,
    kind: str = "latest",
) -> None:
    with db.session() as session:
        session.add(
            FetchRun(
                kind=kind,
                status=status,
                started_at=started_at,
                finished_at=started_at,
                error=error,
            )
        )
