"""The admin's view of the scheduler, and "fetch now", once across processes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crypto_dash.db.engine import Database
from crypto_dash.db.models import AuditEvent
from crypto_dash.errors import PermissionDenied
from crypto_dash.scheduler import PriceScheduler, RunOutcome
from crypto_dash.services import leases
from crypto_dash.services.scheduler_status import fetch_now, scheduler_status
from crypto_dash.settings import Settings
from tests.builders import make_user
from tests.integration.scheduler_support import (
    DOWN_MESSAGE,
    RecordingJob,
    fetch_runs,
    wait_until,
)


def test_fetch_now_runs_the_job_once_for_an_administrator(db: Database) -> None:
    admin = make_user(db, "root", admin=True)
    job = RecordingJob(db, "web-1")

    outcome = fetch_now(admin, db, job, worker="web-1")

    assert outcome.ran
    assert outcome.status == "ok"
    assert job.calls == 1
    assert [(run.status, run.worker) for run in fetch_runs(db)] == [("ok", "web-1")]
    with db.read_session() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "scheduler.fetch_now" in actions


def test_fetch_now_is_refused_to_a_user_who_is_not_an_administrator(
    db: Database,
) -> None:
    user = make_user(db, "alice")
    job = RecordingJob(db, "web-1")

    with pytest.raises(PermissionDenied):
        fetch_now(user, db, job, worker="web-1")

    assert job.calls == 0
    assert fetch_runs(db) == []


def test_fetch_now_records_a_failed_run_when_the_job_raises(db: Database) -> None:
    admin = make_user(db, "root", admin=True)
    job = RecordingJob(db, "web-1", fail_first=1)

    outcome = fetch_now(admin, db, job, worker="web-1")

    assert outcome.ran
    assert outcome.status == "failed"
    assert outcome.error == DOWN_MESSAGE
    assert [(run.status, run.error) for run in fetch_runs(db)] == [
        ("failed", DOWN_MESSAGE)
    ]


def test_fetch_now_in_two_processes_at_once_runs_the_job_once(
    db: Database, db_url: str
) -> None:
    admin = make_user(db, "root", admin=True)
    databases = [Database(db_url), Database(db_url)]
    jobs = [RecordingJob(d, f"web-{i}", sleep=0.5) for i, d in enumerate(databases)]
    barrier = threading.Barrier(2)
    outcomes: list[RunOutcome] = []

    def click(index: int) -> None:
        barrier.wait()
        worker = f"web-{index}"
        outcomes.append(fetch_now(admin, databases[index], jobs[index], worker=worker))

    threads = [threading.Thread(target=click, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for database in databases:
        database.dispose()

    assert sorted(outcome.ran for outcome in outcomes) == [False, True]
    winner = next(o for o in outcomes if o.ran)
    loser = next(o for o in outcomes if not o.ran)
    assert loser.status == "busy"
    assert loser.busy_with == winner.worker
    assert sum(job.calls for job in jobs) == 1
    assert len(fetch_runs(db)) == 1


def test_the_status_shows_the_leader_last_run_last_error_and_next_run(
    db: Database,
) -> None:
    admin = make_user(db, "root", admin=True)
    job = RecordingJob(db, "server-1", fail_first=1)
    scheduler = PriceScheduler(
        db,
        Settings(fetch_interval_seconds=1),
        job,
        worker_id="server-1",
        first_run_delay_seconds=0.1,
    )
    scheduler.start()
    try:
        assert wait_until(lambda: len(fetch_runs(db)) >= 2, timeout=8)
        here = scheduler_status(admin, db, scheduler=scheduler)
        replica = scheduler_status(admin, db, interval_seconds=1)
    finally:
        scheduler.shutdown()

    assert here.leader == "server-1"
    assert here.this_process_leads
    assert here.last_run is not None and here.last_run.status == "ok"
    assert here.last_error is not None
    assert (here.last_error.status, here.last_error.error) == ("failed", DOWN_MESSAGE)
    assert here.next_run_at is not None and not here.next_run_is_estimate
    assert replica.leader == "server-1"
    assert replica.this_process is None and not replica.this_process_leads
    assert replica.next_run_at is not None and replica.next_run_is_estimate
    assert replica.next_run_at >= here.last_run.started_at


def test_the_status_says_nobody_leads_before_any_scheduler_started(
    db: Database,
) -> None:
    admin = make_user(db, "root", admin=True)

    status = scheduler_status(admin, db, interval_seconds=300)

    assert status.leader is None
    assert status.last_run is None
    assert status.last_error is None
    assert status.next_run_at is None


def test_the_status_is_refused_to_a_user_who_is_not_an_administrator(
    db: Database,
) -> None:
    user = make_user(db, "alice")

    with pytest.raises(PermissionDenied):
        scheduler_status(user, db, interval_seconds=300)


def test_a_stopped_scheduler_no_longer_leads(db: Database) -> None:
    admin = make_user(db, "root", admin=True)
    scheduler = PriceScheduler(
        db, Settings(fetch_interval_seconds=300), RecordingJob(db, "s"), worker_id="s"
    )
    scheduler.start()
    assert wait_until(lambda: scheduler.is_leader, timeout=5)

    scheduler.shutdown()
    status = scheduler_status(admin, db, interval_seconds=300)

    assert status.leader is None
    lease = leases.current(db, "prices")
    assert lease is not None and lease.owner == "s"
    assert lease.expires_at <= datetime.now(UTC)
