"""Benchmark: dashboard sessions and the ingestion writer contending for SQLite.

Eight threads act as dashboard sessions: each lists its organization's price
entries, then adds one, through the services, as fast as it can. A ninth
thread is the scheduler's write path: every 100 ms it stores a new price point
with ``write_points`` in its own transaction. At the end every acknowledged
entry and point is looked up again. Prints the count of operations, the p50,
p95 and maximum latency of a read-then-write session step and of a writer
transaction, and the count of "database is locked" (or any other) errors.

    python bench/contention.py [--seconds 30] [--sessions 8] [--url URL]

Without ``--url`` it uses a fresh, migrated SQLite file in a temporary folder.
tests/integration/test_reliability_contention.py runs the same for 5 seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from crypto_dash.db import migrate  # noqa: E402
from crypto_dash.db.engine import Database  # noqa: E402
from crypto_dash.db.models import Coin, MarketPrice, PriceEntry  # noqa: E402
from crypto_dash.services import organizations, price_entries, users  # noqa: E402
from crypto_dash.services.price_points import PricePoint, write_points  # noqa: E402
from crypto_dash.services.principal import Principal  # noqa: E402

WRITER_EVERY = 0.1
COIN = "contention-coin"


@dataclass
class Outcome:
    """What a contention run did; every list is filled by its own threads."""

    session_ms: list[float] = field(default_factory=list)
    writer_ms: list[float] = field(default_factory=list)
    entry_ids: list[int] = field(default_factory=list)
    point_times: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing_entries: int = 0
    missing_points: int = 0

    @property
    def locked(self) -> int:
        return sum("locked" in e or "busy" in e for e in self.errors)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _setup(db: Database) -> tuple[Principal, object]:
    system = Principal.system()
    view = users.create_user(system, db, "contender", "correct horse", rounds=4)
    user = Principal(user_id=view.id, username=view.username, is_admin=False)
    org = organizations.create_organization(user, db, "Contention Desk")
    with db.session() as session:
        if session.get(Coin, COIN) is None:
            session.add(Coin(id=COIN, symbol="cnt", name="Contention"))
    return user, org.id


def run_contention(
    db: Database, seconds: float, sessions: int = 8, writer_every: float = WRITER_EVERY
) -> Outcome:
    """Run the sessions and the writer for ``seconds``, then check every ack."""
    user, org_id = _setup(db)
    outcome = Outcome()
    lock = threading.Lock()
    stop = threading.Event()

    def dashboard_session(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            started = time.perf_counter()
            try:
                price_entries.list_entries(user, db, org_id)
                entry = price_entries.create_entry(
                    user, db, org_id, "BTC", f"{n + 1}.{i:06d}"
                )
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    outcome.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                outcome.session_ms.append(elapsed)
                outcome.entry_ids.append(entry.id)

    def scheduler_writer() -> None:
        at = 1_700_000_000
        next_tick = time.monotonic()
        while not stop.is_set():
            at += 300
            point = PricePoint(
                COIN,
                "usd",
                at,
                Decimal("65000.12345678"),
                None,
                None,
                None,
                "bench",
                at,
            )
            started = time.perf_counter()
            try:
                with db.session() as session:
                    write_points(session, [point])
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    outcome.errors.append(f"writer {type(exc).__name__}: {exc}")
            else:
                with lock:
                    outcome.writer_ms.append((time.perf_counter() - started) * 1000)
                    outcome.point_times.append(at)
            next_tick += writer_every
            stop.wait(max(0.0, next_tick - time.monotonic()))

    threads = [
        threading.Thread(target=dashboard_session, args=(n,), name=f"session-{n}")
        for n in range(sessions)
    ]
    threads.append(threading.Thread(target=scheduler_writer, name="writer"))
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    with db.read_session() as session:
        ids = set(session.scalars(select(PriceEntry.id)))
        times = set(
            session.scalars(
                select(MarketPrice.observed_at).where(MarketPrice.coin_id == COIN)
            )
        )
    outcome.missing_entries = sum(i not in ids for i in outcome.entry_ids)
    outcome.missing_points = sum(t not in times for t in outcome.point_times)
    return outcome


def report(outcome: Outcome, seconds: float) -> str:
    s, w = outcome.session_ms, outcome.writer_ms
    lines = [
        f"session steps (read then write): {len(s)} in {seconds:.0f} s "
        f"({len(s) / seconds:.0f}/s)",
        f"  latency ms: p50 {percentile(s, 0.5):.1f}  p95 {percentile(s, 0.95):.1f}"
        f"  max {max(s, default=0):.1f}",
        f"writer transactions: {len(w)} (every {WRITER_EVERY * 1000:.0f} ms)",
        f"  latency ms: p50 {percentile(w, 0.5):.1f}  p95 {percentile(w, 0.95):.1f}"
        f"  max {max(w, default=0):.1f}",
        f"errors: {len(outcome.errors)} ('database is locked': {outcome.locked})",
        f"acknowledged but missing: {outcome.missing_entries} entries, "
        f"{outcome.missing_points} points",
    ]
    if s:
        lines.append(f"  session mean ms: {statistics.fmean(s):.1f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--url", default="", help="database URL (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'contention.sqlite3'}"
        db = Database(url)
        migrate.upgrade(db.engine)
        outcome = run_contention(db, args.seconds, args.sessions)
        db.dispose()
    print(f"backend: {url.split(':')[0]}, {args.sessions} sessions + 1 writer")
    print(report(outcome, args.seconds))
    for error in outcome.errors[:5]:
        print("  error:", error)


if __name__ == "__main__":
    main()
