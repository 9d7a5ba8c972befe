"""Benchmark: one year of five-minute points for 10 coins into a fresh SQLite file.

Compares the ingestion write path (``crypto_dash.services.price_points.write_points``)
with a bare ``sqlite3`` executemany of the same rows into the same schema, in the
same run, and prints rows per second of each and their ratio (target >= 0.5).
For information it also times a plain SQLAlchemy Core executemany of dicts.

    python bench/ingest.py [--coins 10] [--days 365]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crypto_dash.db import migrate  # noqa: E402
from crypto_dash.db.engine import Database  # noqa: E402
from crypto_dash.db.models import Coin  # noqa: E402
from crypto_dash.db.types import format_decimal  # noqa: E402
from crypto_dash.services.price_points import (  # noqa: E402
    MARKET_PRICES,
    POINT_COLUMNS,
    PricePoint,
    point_dicts,
    write_points,
)

START = 1_700_000_000 // 300 * 300
STEP = 300


def make_points(coins: int, days: int) -> list[PricePoint]:
    per_coin = days * 86_400 // STEP
    points = []
    for c in range(coins):
        for i in range(per_coin):
            price = Decimal(60_000 + c * 1_000 + i % 9_973) / Decimal(1_000)
            points.append(
                PricePoint(
                    coin_id=f"coin-{c}",
                    vs_currency="usd",
                    observed_at=START + i * STEP,
                    price=price,
                    market_cap=price * 19_700_000,
                    volume_24h=price * 800_000,
                    change_24h_pct=None,
                    source="bench",
                    fetched_at=START,
                )
            )
    return points


def fresh_database(folder: Path, name: str, coins: int) -> Database:
    db = Database(f"sqlite:///{folder / name}")
    migrate.upgrade(db.engine)
    with db.session() as session:
        session.add_all(
            Coin(id=f"coin-{c}", symbol=f"c{c}", name=f"Coin {c}") for c in range(coins)
        )
    return db


def timed(label: str, rows: int, work: Callable[[], int]) -> float:
    started = time.perf_counter()
    written = work()
    elapsed = time.perf_counter() - started
    rate = rows / elapsed
    print(f"{label:<34} {written:>10,} rows in {elapsed:6.2f}s = {rate:>10,.0f} rows/s")
    if written != rows:
        raise SystemExit(f"{label} wrote {written} rows, expected {rows}")
    return rate


def run_ingestion(db: Database, points: list[PricePoint]) -> Callable[[], int]:
    def work() -> int:
        with db.session() as session:
            return write_points(session, points)

    return work


def run_core_dicts(db: Database, points: list[PricePoint]) -> Callable[[], int]:
    from sqlalchemy.dialects.sqlite import insert

    statement = insert(MARKET_PRICES).on_conflict_do_nothing(
        index_elements=["coin_id", "vs_currency", "observed_at"]
    )

    def work() -> int:
        rows = list(point_dicts(points))
        written = 0
        with db.session() as session:
            for start in range(0, len(rows), 50_000):
                result = session.execute(statement, rows[start : start + 50_000])
                written += result.rowcount  # type: ignore[attr-defined]
        return written

    return work


def run_bare(path: Path, points: list[PricePoint]) -> Callable[[], int]:
    columns = ", ".join(POINT_COLUMNS)
    marks = ", ".join("?" for _ in POINT_COLUMNS)
    sql = f"INSERT INTO market_prices ({columns}) VALUES ({marks})"

    # The bare baseline gets its tuples ready-made, outside the timing: the
    # strictest comparison for the ingestion path, which renders its own.
    rows = [
        (
            p.coin_id,
            p.vs_currency,
            p.observed_at,
            format_decimal(p.price),
            float(p.price),
            format_decimal(p.market_cap) if p.market_cap is not None else None,
            format_decimal(p.volume_24h) if p.volume_24h is not None else None,
            p.change_24h_pct,
            p.source,
            p.fetched_at,
        )
        for p in points
    ]

    def work() -> int:
        connection = sqlite3.connect(path)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        with connection:
            written = connection.executemany(sql, rows).rowcount
        connection.close()
        return written

    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coins", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    points = make_points(args.coins, args.days)
    rows = len(points)
    print(f"{rows:,} rows ({args.coins} coins x {args.days} days of 5-minute points)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = ("ours1", "ours2", "core", "bare1", "bare2")
        dbs = {
            name: fresh_database(folder, f"{name}.sqlite3", args.coins)
            for name in names
        }
        # The machine is shared, so each path runs twice, interleaved, and the
        # faster run of each counts.
        bare_first = timed(
            "bare sqlite3 executemany (1st)",
            rows,
            run_bare(folder / "bare1.sqlite3", points),
        )
        ours_first = timed(
            "ingestion write path (1st)", rows, run_ingestion(dbs["ours1"], points)
        )
        core = timed(
            "plain Core executemany (dicts)", rows, run_core_dicts(dbs["core"], points)
        )
        bare_last = timed(
            "bare sqlite3 executemany (2nd)",
            rows,
            run_bare(folder / "bare2.sqlite3", points),
        )
        ours_last = timed(
            "ingestion write path (2nd)", rows, run_ingestion(dbs["ours2"], points)
        )
        bare, ours = max(bare_first, bare_last), max(ours_first, ours_last)
        ours_db = dbs["ours1"]
        again = time.perf_counter()
        with ours_db.session() as session:
            repeat = write_points(session, points)
        print(
            f"{'re-run of the same rows':<34} {repeat:>10,} rows in "
            f"{time.perf_counter() - again:6.2f}s (duplicates skipped)"
        )
        for database in dbs.values():
            database.dispose()
    print(f"ratio ingestion / bare sqlite3: {ours / bare:.2f} (target >= 0.5)")
    print(f"ratio plain Core / bare sqlite3: {core / bare:.2f}")


if __name__ == "__main__":
    main()
