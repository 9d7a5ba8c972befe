"""The background price scheduler (APScheduler 3.x), one leader across processes.

Nothing here starts on import: ``start_scheduler(runtime)`` builds and starts
it from the server's start-up, ``python -m crypto_dash worker`` from the CLI.
"""

from __future__ import annotations

import logging

from crypto_dash.runtime import Runtime
from crypto_dash.scheduler.jobs import LatestPricesJob, default_job
from crypto_dash.scheduler.price_scheduler import (
    PriceScheduler,
    SchedulerState,
    default_worker_id,
)
from crypto_dash.scheduler.runs import Job, RunOutcome

logger = logging.getLogger(__name__)

__all__ = [
    "Job",
    "LatestPricesJob",
    "PriceScheduler",
    "RunOutcome",
    "SchedulerState",
    "default_job",
    "default_worker_id",
    "start_scheduler",
]


def start_scheduler(
    runtime: Runtime, *, job: Job | None = None, worker_id: str | None = None
) -> PriceScheduler | None:
    """Start the scheduler for this process, or return None when it is off."""
    if not runtime.settings.scheduler:
        logger.info("price scheduler is off in this process (CRYPTO_DASH_SCHEDULER)")
        return None
    worker_id = worker_id or default_worker_id()
    job = job or default_job(runtime, worker=worker_id)
    scheduler = PriceScheduler(runtime.db, runtime.settings, job, worker_id=worker_id)
    scheduler.start()
    return scheduler
