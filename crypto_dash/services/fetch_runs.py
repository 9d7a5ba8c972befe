"""Bookkeeping of fetch runs: one FetchRun row per latest fetch or backfill.

A run is started before the first call and finished with its status (ok,
partial, rate_limited, failed), calls made, points written and error text, so
the dashboard can tell "rate-limited" from "unreachable" from "no price yet".
A run whose process died stays "running"; the next run of the same kind closes
such abandoned rows as failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from crypto_dash.db.engine import Database
from crypto_dash.db.models import FetchRun, utcnow
from crypto_dash.errors import (
    BadApiKey,
    PlanRestricted,
    PriceFeedError,
    RateLimited,
    UpstreamUnavailable,
)

logger = logging.getLogger(__name__)

# Failures after which further calls in the same run would fail the same way.
STOPPING = (RateLimited, UpstreamUnavailable, BadApiKey, PlanRestricted)
# A run still "running" after this long belongs to a process that died.
ABANDONED_AFTER = {"latest": timedelta(minutes=30), "backfill": timedelta(hours=12)}
INTERRUPTED = "Interrupted: the process stopped before the run finished."


@dataclass
class RunTally:
    """What a run did so far, and how it ended."""

    succeeded: int = 0
    points: int = 0
    failures: list[PriceFeedError] = field(default_factory=list)

    def status(self) -> str:
        if not self.failures:
            return "ok"
        if self.succeeded:
            return "partial"
        if any(isinstance(f, RateLimited) for f in self.failures):
            return "rate_limited"
        return "failed"

    def error(self) -> str | None:
        messages = dict.fromkeys(f.message for f in self.failures)
        return " ".join(messages) or None


def start_run(db: Database, kind: str, coins: int, worker: str | None) -> int:
    """Record a new run as running, closing abandoned runs of the same kind."""
    with db.session() as session:
        close_abandoned(session, kind)
        run = FetchRun(
            kind=kind, status="running", coins_requested=coins, worker=worker
        )
        session.add(run)
        session.flush()
        return run.id


def close_abandoned(session: Session, kind: str) -> int:
    """Mark runs of ``kind`` left running by a dead process as failed."""
    cutoff = utcnow() - ABANDONED_AFTER.get(kind, timedelta(hours=12))
    closed = session.execute(
        update(FetchRun)
        .where(
            FetchRun.kind == kind,
            FetchRun.status == "running",
            FetchRun.started_at < cutoff,
        )
        .values(status="failed", error=INTERRUPTED, finished_at=utcnow())
    ).rowcount
    if closed:
        logger.warning("closed %d abandoned %s fetch run(s)", closed, kind)
    return closed


def finish_run(
    db: Database, run_id: int, status: str, calls: int, points: int, error: str | None
) -> None:
    with db.session() as session:
        run = session.get(FetchRun, run_id)
        assert run is not None
        run.status, run.calls_made, run.points_written = status, calls, points
        run.error, run.finished_at = error, utcnow()


def fail_run(
    db: Database, run_id: int, calls: int, points: int, exc: Exception
) -> None:
    """Record a run that broke on an error of ours; the log keeps the detail.

    The run's error text is shown to every member on the dashboard, so it
    names only the kind of error. The exception is marked with the run's id so
    that a caller (the scheduler) does not record the same failure again.
    """
    logger.error("fetch run %d broke down", run_id, exc_info=exc)
    exc.fetch_run_id = run_id  # type: ignore[attr-defined]
    try:
        finish_run(db, run_id, "failed", calls, points, internal_error(exc))
    except Exception:
        logger.exception("could not record the failure of fetch run %d", run_id)


def internal_error(exc: BaseException) -> str:
    """The sentence stored for a failure that is not CoinGecko's."""
    return f"Internal error ({exc.__class__.__name__}); the server log has the detail."
