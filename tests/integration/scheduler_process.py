"""A scheduler process for the tests: the real PriceScheduler, the recording job.

    python -m tests.integration.scheduler_process --db-url URL --worker NAME

It runs until SIGTERM or SIGINT, like ``python -m crypto_dash worker``.
"""

from __future__ import annotations

import argparse
import signal
import threading

from crypto_dash.db.engine import Database
from crypto_dash.logconfig import configure_logging
from crypto_dash.scheduler import PriceScheduler
from crypto_dash.settings import Settings
from tests.integration.scheduler_support import RecordingJob


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--interval", type=int, default=2)
    args = parser.parse_args()

    configure_logging("INFO")
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    db = Database(args.db_url)
    settings = Settings(fetch_interval_seconds=args.interval)
    job = RecordingJob(db, args.worker)
    scheduler = PriceScheduler(
        db, settings, job, worker_id=args.worker, first_run_delay_seconds=0.2
    )
    scheduler.start()
    while not stop.wait(0.1):
        pass
    scheduler.shutdown()
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
