"""One run of the price job, guarded across processes.

A run holds the ``prices.run`` lease while the job works, so that a scheduled
tick and an administrator's "fetch now", in any processes, never overlap. The
job writes its own ``fetch_runs`` row; when it raises instead, the run is
logged with its traceback and recorded here as a failed run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from crypto_dash.db.engine import Database
from crypto_dash.db.models import FetchRun
from crypto_dash.errors import CryptoDashError
from crypto_dash.scheduler.keeper import LeaseKeeper
from crypto_dash.services import leases
from crypto_dash.services.fetch_runs import internal_error

logger = logging.getLogger(__name__)

LEADER_LEASE = "prices"
RUN_LEASE = "prices.run"
MAX_ERROR_CHARS = 500

Job = Callable[[], object]


@dataclass(frozen=True)
class RunOutcome:
    """What one attempt to run the job did; ``ran`` is False when it was busy."""

    ran: bool
    status: str  # ok | partial | rate_limited | failed | busy
    trigger: str  # schedule | manual
    worker: str
    run_id: int | None = None
    error: str | None = None
    busy_with: str | None = None
    seconds: float = 0.0


def run_job(
    db: Database, job: Job, *, worker: str, trigger: str, lock_ttl_seconds: float
) -> RunOutcome:
    """Run the job now unless a run is in progress anywhere; never raise for it."""
    if not leases.try_acquire(db, RUN_LEASE, worker, lock_ttl_seconds):
        holder = leases.current(db, RUN_LEASE)
        busy_with = holder.owner if holder else None
        logger.info(
            "price fetch (%s) not started on %s: a run is in progress on %s",
            trigger,
            worker,
            busy_with,
        )
        return RunOutcome(False, "busy", trigger, worker, busy_with=busy_with)
    keeper = LeaseKeeper(
        db, RUN_LEASE, worker, lock_ttl_seconds, lock_ttl_seconds / 3, announce=False
    )
    keeper.start()
    try:
        return _run(db, job, worker=worker, trigger=trigger)
    finally:
        keeper.stop(release=False)
        _release(db, worker)


def _release(db: Database, worker: str) -> None:
    try:
        leases.release(db, RUN_LEASE, worker)
    except Exception:
        logger.exception("could not release lease %r for %s", RUN_LEASE, worker)


def _run(db: Database, job: Job, *, worker: str, trigger: str) -> RunOutcome:
    started_at = datetime.now(UTC)
    clock = time.monotonic()
    logger.info("price fetch started (%s, on %s)", trigger, worker)
    try:
        report = job()
    except Exception as exc:
        seconds = time.monotonic() - clock
        logger.exception(
            "price fetch failed after %.1f s (%s, on %s)", seconds, trigger, worker
        )
        error = describe(exc)
        run_id = getattr(exc, "fetch_run_id", None)  # the job recorded it itself
        if run_id is None:
            run_id = record_failed_run(
                db, worker=worker, started_at=started_at, error=error
            )
        return RunOutcome(True, "failed", trigger, worker, run_id, error, None, seconds)
    seconds = time.monotonic() - clock
    status = str(getattr(report, "status", "ok"))
    logger.info(
        "price fetch finished: %s in %.1f s, %s calls, %s points written (%s, on %s)%s",
        status,
        seconds,
        getattr(report, "calls_made", "?"),
        getattr(report, "points_written", "?"),
        trigger,
        worker,
        f": {report.error}" if getattr(report, "error", None) else "",
    )
    run_id = getattr(report, "run_id", None)
    error = getattr(report, "error", None)
    return RunOutcome(True, status, trigger, worker, run_id, error, None, seconds)


def describe(exc: BaseException) -> str:
    """A short sentence for the run's error column: ours, or the class and text."""
    # Members see this text on the dashboard; the traceback is in the log.
    text = exc.message if isinstance(exc, CryptoDashError) else internal_error(exc)
    return text[:MAX_ERROR_CHARS]


def record_failed_run(
    db: Database, *, worker: str, started_at: datetime, error: str
) -> int | None:
    """Write a failed ``fetch_runs`` row; log and return None if even that fails."""
    try:
        with db.session() as session:
            run = FetchRun(
                kind="latest",
                status="failed",
                started_at=started_at,
                finished_at=datetime.now(UTC),
                error=error,
                worker=worker,
            )
            session.add(run)
            session.flush()
            return run.id
    except Exception:
        logger.exception("could not record the failed price fetch of %s", worker)
        return None
