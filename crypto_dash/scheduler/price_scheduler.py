"""The APScheduler 3.x price scheduler: one tick per interval, run by the leader.

Every process that runs a ``PriceScheduler`` ticks on its own clock, but only
the holder of the ``prices`` lease runs the job, and every run also holds the
``prices.run`` lease, so processes that share a database fetch once per tick
between them. The leader lease lives for ``lease_ttl_seconds`` (3/4 of the
interval) and is renewed every ``heartbeat_seconds`` (1/10 of it) by a thread
of its own, which a slow job never holds up: a leader can miss six renewals in
a row before it loses the lead, and when it dies another process takes over
within 0.85 of an interval.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from crypto_dash.db.engine import Database
from crypto_dash.scheduler.keeper import LeaseKeeper
from crypto_dash.scheduler.runs import LEADER_LEASE, Job, RunOutcome, run_job
from crypto_dash.settings import Settings

logger = logging.getLogger(__name__)

JOB_ID = "prices"
FIRST_RUN_DELAY_SECONDS = 3.0


def default_worker_id() -> str:
    """Host, process id and a random tag: unique even when a pid is reused."""
    host = socket.gethostname()[:150]
    return f"{host}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class SchedulerState:
    """What this process's scheduler has done since it started."""

    worker_id: str
    running: bool
    is_leader: bool
    interval_seconds: int
    next_run_at: datetime | None
    ticks: int
    runs: int
    skipped_as_follower: int
    skipped_as_busy: int
    skipped_overlapping: int
    last_outcome: RunOutcome | None


class PriceScheduler:
    """Run ``job`` every fetch interval, in the process that holds the lead."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        job: Job,
        *,
        worker_id: str | None = None,
        first_run_delay_seconds: float = FIRST_RUN_DELAY_SECONDS,
        lease_ttl_seconds: float | None = None,
        heartbeat_seconds: float | None = None,
    ) -> None:
        self.db = db
        self.job = job
        self.worker_id = worker_id or default_worker_id()
        self.interval_seconds = settings.fetch_interval_seconds
        self.first_run_delay_seconds = first_run_delay_seconds
        self.lease_ttl_seconds = lease_ttl_seconds or 0.75 * self.interval_seconds
        heartbeat = heartbeat_seconds or 0.1 * self.interval_seconds
        self._leader = LeaseKeeper(
            db, LEADER_LEASE, self.worker_id, self.lease_ttl_seconds, heartbeat
        )
        self._scheduler: BackgroundScheduler | None = None
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(
            ("ticks", "runs", "follower", "busy", "overlap"), 0
        )
        self._last_outcome: RunOutcome | None = None

    @property
    def misfire_grace_seconds(self) -> int:
        return max(1, min(120, self.interval_seconds // 2))

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    @property
    def is_leader(self) -> bool:
        return self.running and self._leader.held

    def start(self) -> None:
        """Start ticking in background threads; the first tick comes soon."""
        if self.running:
            logger.warning("price scheduler on %s is already running", self.worker_id)
            return
        scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            timezone=UTC,
            daemon=True,
        )
        scheduler.add_listener(self._on_overlap, EVENT_JOB_MAX_INSTANCES)
        first_run = datetime.now(UTC) + timedelta(seconds=self.first_run_delay_seconds)
        scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.interval_seconds, timezone=UTC),
            id=JOB_ID,
            name="price fetch",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=self.misfire_grace_seconds,
            next_run_time=first_run,
        )
        self._leader.start()
        scheduler.start()
        self._scheduler = scheduler
        logger.info(
            "price scheduler started on %s: every %s s, first tick in %.1f s",
            self.worker_id,
            self.interval_seconds,
            self.first_run_delay_seconds,
        )

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop ticking (by default after a run in progress) and hand the lead on."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        scheduler.shutdown(wait=wait)
        self._leader.stop(release=True)
        close = getattr(self.job, "close", None)
        if callable(close):
            close()
        logger.info("price scheduler stopped on %s", self.worker_id)

    def tick(self) -> RunOutcome | None:
        """One scheduled tick: run the job if this process leads; never raise."""
        self._count("ticks")
        try:
            if not self._leader.refresh():
                logger.debug("price fetch tick on %s: another leads", self.worker_id)
                self._count("follower")
                return None
            outcome = run_job(
                self.db,
                self.job,
                worker=self.worker_id,
                trigger="schedule",
                lock_ttl_seconds=self.lease_ttl_seconds,
            )
        except Exception:
            logger.exception("price fetch tick on %s failed", self.worker_id)
            return None
        self._count("runs" if outcome.ran else "busy")
        self._last_outcome = outcome
        return outcome

    def _count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def _on_overlap(self, event: JobEvent) -> None:
        self._count("overlap")

    @property
    def next_run_at(self) -> datetime | None:
        scheduler = self._scheduler
        job = scheduler.get_job(JOB_ID) if scheduler is not None else None
        return job.next_run_time if job is not None else None

    def state(self) -> SchedulerState:
        with self._lock:
            counts: dict[str, Any] = dict(self._counts)
        return SchedulerState(
            worker_id=self.worker_id,
            running=self.running,
            is_leader=self.is_leader,
            interval_seconds=self.interval_seconds,
            next_run_at=self.next_run_at,
            ticks=counts["ticks"],
            runs=counts["runs"],
            skipped_as_follower=counts["follower"],
            skipped_as_busy=counts["busy"],
            skipped_overlapping=counts["overlap"],
            last_outcome=self._last_outcome,
        )
