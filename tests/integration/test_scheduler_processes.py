"""Scheduler processes sharing one database: one fetch per tick, and hand-over."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest

from crypto_dash.db.engine import Database
from crypto_dash.services import leases
from tests.integration.scheduler_support import (
    ChildProcess,
    fetch_runs,
    gaps,
    start_scheduler_process,
    wait_until,
)

INTERVAL = 2
STARTUP = 20  # seconds a child may take to import and start, on a busy machine


@pytest.fixture
def children() -> Iterator[list[ChildProcess]]:
    started: list[ChildProcess] = []
    yield started
    for child in started:
        child.stop(signal.SIGKILL)


def leader(db: Database) -> str | None:
    lease = leases.current(db, "prices")
    return lease.owner if lease is not None and lease.is_live() else None


def test_two_scheduler_processes_fetch_once_per_tick_between_them(
    db: Database, db_url: str, children: list[ChildProcess]
) -> None:
    a = start_scheduler_process(db_url, "proc-a", INTERVAL)
    b = start_scheduler_process(db_url, "proc-b", INTERVAL)
    children.extend([a, b])
    both_up = a.wait_for("price scheduler started", STARTUP) and b.wait_for(
        "price scheduler started", STARTUP
    )
    owners: set[str | None] = set()

    def three_runs() -> bool:
        runs = fetch_runs(db)
        if runs:  # from the first run on, the lead must never change or lapse
            owners.add(leader(db))
        return len(runs) >= 3

    ticked = wait_until(three_runs, timeout=3 * INTERVAL + 5, step=0.05)
    runs = fetch_runs(db)

    assert both_up, a.log() + b.log()
    assert ticked, a.log() + b.log()
    assert len({run.worker for run in runs}) == 1
    assert all(gap > 0.5 * INTERVAL for gap in gaps(runs))
    assert owners == {runs[0].worker}
    assert a.stop() == 0
    assert b.stop() == 0


def test_killing_the_leader_process_hands_over_within_one_interval(
    db: Database, db_url: str, children: list[ChildProcess]
) -> None:
    a = start_scheduler_process(db_url, "proc-a", INTERVAL)
    children.append(a)
    assert wait_until(lambda: leader(db) == "proc-a", STARTUP), a.log()
    b = start_scheduler_process(db_url, "proc-b", INTERVAL)
    children.append(b)
    assert b.wait_for("price scheduler started", STARTUP), b.log()
    runs_before = len(fetch_runs(db))
    assert wait_until(lambda: len(fetch_runs(db)) >= runs_before + 1, 2 * INTERVAL)

    a.stop(signal.SIGKILL)
    killed_at = time.monotonic()
    took_over = wait_until(lambda: leader(db) == "proc-b", timeout=3 * INTERVAL)
    handover = time.monotonic() - killed_at
    b_fetched = wait_until(
        lambda: any(run.worker == "proc-b" for run in fetch_runs(db)), 2 * INTERVAL
    )

    assert took_over, b.log()
    assert handover <= INTERVAL
    assert b_fetched
    assert all(run.worker == "proc-a" for run in fetch_runs(db)[:runs_before])
    assert b.stop() == 0
