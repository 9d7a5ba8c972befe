"""The price scheduler with real threads on one database (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from crypto_dash.db.engine import Database
from crypto_dash.runtime import Runtime
from crypto_dash.scheduler import PriceScheduler, start_scheduler
from crypto_dash.settings import Settings
from tests.integration.scheduler_support import (
    DOWN_MESSAGE,
    RecordingJob,
    fetch_runs,
    gaps,
    wait_until,
)

INTERVAL = 1
FAST = Settings(fetch_interval_seconds=INTERVAL)


@pytest.fixture
def schedulers() -> Iterator[list[PriceScheduler]]:
    """Schedulers a test starts; all shut down at its end, whatever happens."""
    started: list[PriceScheduler] = []
    yield started
    for scheduler in started:
        scheduler.shutdown()


def make_scheduler(
    db: Database, worker: str, job: RecordingJob | None = None
) -> PriceScheduler:
    return PriceScheduler(
        db,
        FAST,
        job or RecordingJob(db, worker),
        worker_id=worker,
        first_run_delay_seconds=0.1,
    )


def test_two_schedulers_run_the_job_once_per_tick_with_one_leader(
    db: Database, db_url: str, schedulers: list[PriceScheduler]
) -> None:
    # Each scheduler gets engines of its own, as a separate process would.
    other_db = Database(db_url)
    a = make_scheduler(db, "a")
    b = make_scheduler(other_db, "b")
    schedulers.extend([a, b])
    leaders_seen: list[list[str]] = []

    def sample() -> bool:
        leaders_seen.append([s.worker_id for s in (a, b) if s.is_leader])
        return len(fetch_runs(db)) >= 3

    a.start()
    b.start()
    three_ticks = wait_until(sample, timeout=3 * INTERVAL + 5, step=0.02)
    # Stop the follower first, so that it cannot take over when the leader stops.
    leader = fetch_runs(db)[0].worker
    lead, follow = (a, b) if leader == "a" else (b, a)
    follow.shutdown()
    lead.shutdown()
    other_db.dispose()
    runs = fetch_runs(db)
    states = {s.worker_id: s.state() for s in (a, b)}

    assert three_ticks
    assert {run.worker for run in runs} == {leader}
    assert all(gap > 0.5 * INTERVAL for gap in gaps(runs))
    assert max(len(seen) for seen in leaders_seen) == 1
    assert {name for seen in leaders_seen for name in seen} == {leader}
    follower = "b" if leader == "a" else "a"
    assert states[leader].runs == len(runs)
    assert states[follower].runs == 0
    assert states[follower].skipped_as_follower >= 2


def test_a_job_slower_than_the_interval_is_skipped_not_stacked(
    db: Database, schedulers: list[PriceScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    job = RecordingJob(db, "slow", sleep=2.2 * INTERVAL)
    scheduler = make_scheduler(db, "slow", job)
    schedulers.append(scheduler)

    scheduler.start()
    two_runs = wait_until(lambda: len(fetch_runs(db)) >= 2, timeout=10)
    scheduler.shutdown()
    state = scheduler.state()

    assert two_runs
    assert job.max_active == 1
    assert state.skipped_overlapping >= 2
    assert state.runs == len(fetch_runs(db))
    assert any(
        "maximum number of running instances reached" in r.getMessage()
        for r in caplog.records
    )


def test_three_failing_ticks_leave_three_failed_runs_and_a_running_scheduler(
    db: Database, schedulers: list[PriceScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    job = RecordingJob(db, "flaky", fail_first=3)
    scheduler = make_scheduler(db, "flaky", job)
    schedulers.append(scheduler)

    scheduler.start()
    recovered = wait_until(lambda: len(fetch_runs(db)) >= 4, timeout=4 * INTERVAL + 5)

    assert recovered
    runs = fetch_runs(db)[:4]
    assert [run.status for run in runs] == ["failed", "failed", "failed", "ok"]
    assert all(run.error == DOWN_MESSAGE for run in runs[:3])
    assert {run.worker for run in runs} == {"flaky"}
    assert scheduler.running
    tracebacks = [
        r
        for r in caplog.records
        if r.levelno == logging.ERROR and r.exc_info and "price fetch failed" in r.msg
    ]
    assert len(tracebacks) == 3


def test_each_run_logs_one_info_line_at_its_start_and_one_with_its_result(
    db: Database, schedulers: list[PriceScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="crypto_dash")
    scheduler = make_scheduler(db, "chatty")
    schedulers.append(scheduler)

    scheduler.start()
    assert wait_until(lambda: len(fetch_runs(db)) >= 1, timeout=5)
    scheduler.shutdown()

    ours = [r for r in caplog.records if r.name == "crypto_dash.scheduler.runs"]
    starts = [r for r in ours if r.getMessage().startswith("price fetch started")]
    results = [r for r in ours if r.getMessage().startswith("price fetch finished")]
    assert len(starts) == len(results) == len(fetch_runs(db))
    assert "ok in" in results[0].getMessage()
    assert "2 points written" in results[0].getMessage()
    assert all(r.levelno == logging.INFO for r in starts + results)


def test_shutting_down_the_leader_hands_the_lead_to_the_other_at_once(
    db: Database, db_url: str, schedulers: list[PriceScheduler]
) -> None:
    other_db = Database(db_url)
    a = make_scheduler(db, "a")
    a.start()
    assert wait_until(lambda: a.is_leader, timeout=5)
    b = make_scheduler(other_db, "b")
    schedulers.append(b)
    b.start()

    a.shutdown()
    took_over = wait_until(lambda: b.is_leader, timeout=b.lease_ttl_seconds)
    b.shutdown()
    other_db.dispose()

    assert took_over


def test_the_scheduler_is_left_out_when_the_setting_is_off(db: Database) -> None:
    runtime = Runtime(settings=Settings(scheduler=False), db=db)

    scheduler = start_scheduler(runtime, job=RecordingJob(db, "off"))

    assert scheduler is None


def test_start_scheduler_starts_a_running_scheduler_that_shutdown_stops(
    db: Database,
) -> None:
    runtime = Runtime(settings=Settings(fetch_interval_seconds=300), db=db)
    job = RecordingJob(db, "server")

    scheduler = start_scheduler(runtime, job=job)
    assert scheduler is not None
    running = scheduler.running
    leads = wait_until(lambda: scheduler.is_leader, timeout=5)
    next_run = scheduler.next_run_at
    scheduler.shutdown()

    assert running
    assert leads
    assert next_run is not None
    assert not scheduler.running
