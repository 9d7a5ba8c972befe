"""The price scheduler as the admin page sees it, and "fetch now"."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto_dash.db.engine import Database
from crypto_dash.db.models import FetchRun
from crypto_dash.scheduler.price_scheduler import default_worker_id
from crypto_dash.scheduler.runs import LEADER_LEASE, Job, RunOutcome, run_job
from crypto_dash.services import audit, leases
from crypto_dash.services.pagination import Page, PageRequest
from crypto_dash.services.principal import Principal, require_admin

if TYPE_CHECKING:
    from crypto_dash.scheduler.price_scheduler import PriceScheduler

logger = logging.getLogger(__name__)

FAILED = ("failed", "partial", "rate_limited")


@dataclass(frozen=True)
class RunView:
    id: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    calls_made: int
    points_written: int
    coins_requested: int
    error: str | None
    worker: str | None
    kind: str = "latest"  # latest | backfill


@dataclass(frozen=True)
class SchedulerStatus:
    """``leader`` is None when no process holds a live lead."""

    leader: str | None
    leader_since: datetime | None
    leader_until: datetime | None
    this_process: str | None
    this_process_leads: bool
    last_run: RunView | None
    last_error: RunView | None
    next_run_at: datetime | None
    next_run_is_estimate: bool


def _view(row: FetchRun) -> RunView:
    return RunView(
        id=row.id,
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        calls_made=row.calls_made,
        points_written=row.points_written,
        coins_requested=row.coins_requested,
        error=row.error,
        worker=row.worker,
        kind=row.kind,
    )


def _latest_run(session: Session, *statuses: str) -> RunView | None:
    query = select(FetchRun).where(FetchRun.kind == "latest")
    if statuses:
        query = query.where(FetchRun.status.in_(statuses))
    row = session.scalars(
        query.order_by(FetchRun.started_at.desc(), FetchRun.id.desc()).limit(1)
    ).first()
    return _view(row) if row is not None else None


def scheduler_status(
    actor: Principal,
    db: Database,
    *,
    scheduler: PriceScheduler | None = None,
    interval_seconds: int | None = None,
) -> SchedulerStatus:
    """Who leads, the last run and error, and the next run (administrators only).

    ``scheduler`` is this process's scheduler, if it runs one. When another
    process leads, the next run is estimated from the last one and
    ``interval_seconds``.
    """
    with db.read_session() as session:
        require_admin(session, actor)
        last_run = _latest_run(session)
        last_error = _latest_run(session, *FAILED)
    lease = leases.current(db, LEADER_LEASE)
    live = lease if lease is not None and lease.is_live() else None
    this_process = scheduler.worker_id if scheduler is not None else None
    leads_here = live is not None and live.owner == this_process
    next_run_at, estimate = _next_run(scheduler, leads_here, last_run, interval_seconds)
    return SchedulerStatus(
        leader=live.owner if live else None,
        leader_since=live.acquired_at if live else None,
        leader_until=live.expires_at if live else None,
        this_process=this_process,
        this_process_leads=leads_here,
        last_run=last_run,
        last_error=last_error,
        next_run_at=next_run_at,
        next_run_is_estimate=estimate,
    )


def _next_run(
    scheduler: PriceScheduler | None,
    leads_here: bool,
    last_run: RunView | None,
    interval_seconds: int | None,
) -> tuple[datetime | None, bool]:
    if scheduler is not None and leads_here:
        return scheduler.next_run_at, False
    interval = interval_seconds or (scheduler.interval_seconds if scheduler else None)
    if last_run is None or interval is None:
        return None, True
    next_run = last_run.started_at + timedelta(seconds=interval)
    return max(next_run, datetime.now(UTC)), True


def fetch_now(
    actor: Principal,
    db: Database,
    job: Job,
    *,
    worker: str | None = None,
    lock_ttl_seconds: float = 60.0,
) -> RunOutcome:
    """Run the price job at once (administrators only), unless a run is going on.

    The run holds the same cross-process run lease as the scheduled ticks, so
    two administrators, or an administrator and the scheduler, in any
    processes, never fetch at the same time; the loser gets ``ran=False`` and
    status ``busy``. The job's own failures come back as status ``failed``.
    ``worker`` names this process in the run (default: host, pid and a tag).
    """
    with db.read_session() as session:
        require_admin(session, actor)
    worker = worker or default_worker_id()
    outcome = run_job(
        db, job, worker=worker, trigger="manual", lock_ttl_seconds=lock_ttl_seconds
    )
    if outcome.ran:
        with db.session() as session:
            audit.record(
                session,
                actor,
                "scheduler.fetch_now",
                object_type="fetch_run",
                object_id=outcome.run_id if outcome.run_id is not None else "-",
                status=outcome.status,
            )
    return outcome


def list_fetch_runs(
    actor: Principal, db: Database, page: PageRequest, *, kind: str | None = None
) -> Page[RunView]:
    """Fetch runs, newest first, scheduled, manual and backfills (administrators).

    ``kind`` keeps only ``latest`` (the price fetches) or ``backfill`` runs.
    """
    with db.read_session() as session:
        require_admin(session, actor)
        query = select(FetchRun)
        if kind:
            query = query.where(FetchRun.kind == kind)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(
            query.order_by(FetchRun.started_at.desc(), FetchRun.id.desc())
            .offset(page.offset)
            .limit(page.size)
        )
        items = [_view(row) for row in rows]
    return Page(items=items, total=total or 0, page=page.page, size=page.size)
