"""``python -m crypto_dash worker``: run only the price scheduler until stopped."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType
from typing import Any

from crypto_dash.runtime import open_runtime
from crypto_dash.scheduler import PriceScheduler, default_job, default_worker_id
from crypto_dash.settings import Settings

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def register(commands: Any) -> None:
    worker = commands.add_parser(
        "worker",
        help="Run only the price scheduler, until SIGTERM or SIGINT.",
    )
    worker.set_defaults(handler=run_worker)


def run_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Schedule price fetches in this process until a stop signal arrives."""
    if not settings.scheduler:
        logger.info("CRYPTO_DASH_SCHEDULER=off applies to the server; worker runs it")
    runtime = open_runtime(settings)
    stop = threading.Event()
    previous = _install_handlers(stop)
    worker_id = default_worker_id()
    scheduler = PriceScheduler(
        runtime.db,
        settings,
        default_job(runtime, worker=worker_id),
        worker_id=worker_id,
    )
    try:
        scheduler.start()
        while not stop.wait(0.5):
            pass
        logger.info("stop signal received; finishing the run in progress, if any")
    finally:
        scheduler.shutdown(wait=True)
        runtime.close()
        _restore_handlers(previous)
    return 0


def _install_handlers(stop: threading.Event) -> dict[int, Any]:
    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()

    return {number: signal.signal(number, on_signal) for number in STOP_SIGNALS}


def _restore_handlers(previous: dict[int, Any]) -> None:
    for number, handler in previous.items():
        signal.signal(number, handler)
