"""``python -m crypto_dash worker``: only the scheduler, stopped cleanly by signal."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from crypto_dash.db.engine import Database
from crypto_dash.services import leases
from tests.integration.scheduler_support import ChildProcess, wait_until

# Nothing listens on the discard port: even the real job stays on this machine.
NOWHERE = "http://127.0.0.1:9"


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_runs_the_scheduler_until_a_stop_signal_and_exits_cleanly(
    db: Database, db_url: str, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    worker = ChildProcess(
        ["-m", "crypto_dash", "worker"],
        env={
            "CRYPTO_DASH_DATABASE_URL": db_url,
            "CRYPTO_DASH_DATA_DIR": str(tmp_path),
            "CRYPTO_DASH_FETCH_INTERVAL_SECONDS": "300",
            "CRYPTO_DASH_COINGECKO_BASE_URL": NOWHERE,
        },
    )
    try:
        started = worker.wait_for("price scheduler started", timeout=20)
        leads = wait_until(
            lambda: (
                (lease := leases.current(db, "prices")) is not None and lease.is_live()
            ),
            timeout=10,
        )
    finally:
        code = worker.stop(stop_signal)

    assert started, worker.log()
    assert leads, worker.log()
    assert code == 0, worker.log()
    assert worker.saw("price scheduler stopped")
    lease = leases.current(db, "prices")
    assert lease is not None and not lease.is_live()
