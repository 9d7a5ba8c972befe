"""A fresh SQLite database of 10 coins x one year of five-minute points."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from crypto_dash.db import migrate
from crypto_dash.db.engine import Database
from crypto_dash.db.models import (
    Coin,
    Membership,
    Organization,
    Role,
    User,
    WatchlistItem,
)
from crypto_dash.services.principal import Principal

COINS = [f"coin-{n:02d}" for n in range(10)]
YEAR_START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
POINTS_PER_YEAR = 365 * 24 * 12
STEP = 300

_INSERT = sa.text(
    "WITH RECURSIVE nums(i) AS"
    " (SELECT 0 UNION ALL SELECT i + 1 FROM nums WHERE i + 1 < :n)"
    " INSERT INTO market_prices (coin_id, vs_currency, observed_at, price,"
    " price_float, source, fetched_at)"
    " SELECT :coin, 'usd', :start + i * 300,"
    " (1000 + (i * 7919) % 5003) || '.' || substr('0000' || (i % 100000), -5),"
    " 1000 + (i * 7919) % 5003 + (i % 100000) / 100000.0, 'coingecko', :start"
    " FROM nums"
)


def build_database(points: int = POINTS_PER_YEAR) -> tuple[Database, Path, Principal]:
    """Migrate a new SQLite file and fill it; returns a viewer of the org."""
    path = Path(tempfile.mkdtemp(prefix="crypto-dash-bench-")) / "bench.sqlite3"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine)
    with db.session() as session:
        user = User(username="bench", username_key="bench", password_hash="x")
        org = Organization(name="Bench", name_key="bench")
        session.add_all([user, org])
        session.flush()
        session.add(Membership(organization_id=org.id, user_id=user.id, role="viewer"))
        for coin_id in COINS:
            session.add(Coin(id=coin_id, symbol=coin_id[-2:], name=coin_id))
            session.flush()
            session.add(WatchlistItem(organization_id=org.id, coin_id=coin_id))
        viewer = Principal(user.id, user.username, memberships={org.id: Role.VIEWER})
        bench_org = org.id
    for coin_id in COINS:
        with db.session() as session:
            session.execute(
                _INSERT, {"n": points, "coin": coin_id, "start": YEAR_START}
            )
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    db.org_id = bench_org  # type: ignore[attr-defined]
    return db, path, viewer


def interleaved(
    first: Callable[[], object], second: Callable[[], object], repeat: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(best, median) seconds of each, run in turns so both see the same load."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for run, spent in zip((first, second), times, strict=True):
            started = time.perf_counter()
            run()
            spent.append(time.perf_counter() - started)
    a, b = times
    return (min(a), statistics.median(a)), (min(b), statistics.median(b))
