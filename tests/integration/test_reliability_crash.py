"""kill -9 during a backfill: the database stays whole and a re-run completes.

A backfill of several coins runs in a child process against the fake
CoinGecko (slowed a little per chunk) and is SIGKILLed at a random moment,
again and again, each time resuming where the last one stopped. After every
kill the database passes ``PRAGMA integrity_check`` (SQLite), opens and
migrates without repair, and holds only whole chunks: each coin's points are
exactly the hourly points from its job's start up to its cursor, and the job
counts them. A final run reaches the full count with no duplicates. Default: 20
kills per backend, as the checklist asks; ``CRYPTO_DASH_PROOF_SCALE`` multiplies it.
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from crypto_dash.db import migrate
from crypto_dash.db.engine import Database
from crypto_dash.db.models import BackfillJob, MarketPrice
from tests.fake_coingecko import FakeCoinGecko
from tests.fake_coingecko.helpers import client_for, seed_catalogue
from tests.integration.scheduler_support import ChildProcess

SCALE = max(1, int(os.environ.get("CRYPTO_DASH_PROOF_SCALE", "1")))
KILLS = 20 * SCALE
COINS = ("bitcoin", "ethereum", "tether", "solana", "dogecoin", "cardano")
DAYS = 200  # three chunks per coin, all of hourly points
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
SINCE = NOW - timedelta(days=DAYS)
FULL = DAYS * 24 + 1  # hourly points per coin, both ends included
STARTUP = 30


@pytest.fixture
def fake(db) -> Iterator[FakeCoinGecko]:
    with FakeCoinGecko(now=NOW.timestamp()) as server:
        gecko = client_for(server)
        seed_catalogue(db, gecko)
        gecko.close()
        server.set_fault("slow", endpoint="market_chart_range", delay=0.08)
        yield server


def run_backfill(db_url: str, fake: FakeCoinGecko, coins: tuple[str, ...]):
    return ChildProcess(
        [
            "-m",
            "tests.integration.backfill_process",
            "--db-url",
            db_url,
            "--base-url",
            fake.base_url,
            "--since",
            str(int(SINCE.timestamp())),
            "--until",
            str(int(NOW.timestamp())),
            *coins,
        ]
    )


def reopen(db_url: str) -> Database:
    """Open the database as a restarted server would: no repair, just migrate."""
    database = Database(db_url)
    migrate.upgrade(database.engine)
    return database


def integrity(database: Database) -> str:
    if database.dialect != "sqlite":
        return "ok"
    with database.engine.connect() as connection:
        return connection.exec_driver_sql("PRAGMA integrity_check").scalar()


def state(database: Database) -> dict[str, tuple[int, int, int, str]]:
    """Per coin: stored points, its jobs' count, furthest cursor, latest status.

    A coin already done gets a new job on the next run, which re-reads its
    chunks and writes nothing.
    """
    with database.read_session() as session:
        counts = dict(
            session.execute(
                select(MarketPrice.coin_id, func.count()).group_by(MarketPrice.coin_id)
            ).all()
        )
        coins: dict[str, tuple[int, int, int, str]] = {}
        for job in session.scalars(select(BackfillJob).order_by(BackfillJob.id)):
            _, counted, cursor, _ = coins.get(job.coin_id, (0, 0, 0, ""))
            coins[job.coin_id] = (
                counts.get(job.coin_id, 0),
                counted + job.points_written,
                max(cursor, job.cursor),
                job.status,
            )
        return coins


def whole_chunks(coins: dict[str, tuple[int, int, int, str]]) -> list[str]:
    """The coins whose stored points are not exactly whole chunks."""
    start = int(SINCE.timestamp())
    wrong = []
    for coin, (stored, counted, cursor, _) in coins.items():
        expected = 0 if cursor == start else (cursor - start) // 3600 + 1
        if not stored == counted == expected:
            wrong.append(f"{coin}: {stored} stored, {counted} counted, {expected}")
    return wrong


def duplicates(database: Database) -> int:
    with database.read_session() as session:
        keys = (
            select(MarketPrice.coin_id)
            .group_by(
                MarketPrice.coin_id, MarketPrice.vs_currency, MarketPrice.observed_at
            )
            .having(func.count() > 1)
        )
        return session.scalar(select(func.count()).select_from(keys.subquery())) or 0


def test_a_backfill_killed_at_random_moments_leaves_whole_chunks_and_completes(
    db, db_url, fake
):
    rng = random.Random()
    killed_mid_run = 0

    for _ in range(KILLS):
        child = run_backfill(db_url, fake, COINS)
        assert child.wait_for("backfill started", STARTUP), child.log()
        child.wait_for("backfill finished", rng.uniform(0.0, 1.5))
        finished = child.saw("backfill finished")
        child.stop(signal.SIGKILL)
        killed_mid_run += not finished
        database = reopen(db_url)
        coins = state(database)
        check = integrity(database)
        database.dispose()

        assert check == "ok"
        assert whole_chunks(coins) == []
    final = run_backfill(db_url, fake, COINS)
    assert final.wait_for("backfill finished: ok", 60), final.log()
    final.stop()
    database = reopen(db_url)
    coins = state(database)

    assert killed_mid_run >= 1
    assert integrity(database) == "ok"
    assert {coin: stored for coin, (stored, *_) in coins.items()} == dict.fromkeys(
        COINS, FULL
    )
    assert {status for *_, status in coins.values()} == {"done"}
    assert duplicates(database) == 0
    with database.engine.connect() as connection:
        total = connection.execute(
            sa.select(func.count()).select_from(MarketPrice.__table__)
        ).scalar()
    assert total == FULL * len(COINS)
    database.dispose()
