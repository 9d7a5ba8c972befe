"""Doubles and helpers for the scheduler tests: a recording job, child processes."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from crypto_dash.db.engine import Database
from crypto_dash.db.models import FetchRun
from crypto_dash.errors import UpstreamUnavailable

ROOT = Path(__file__).resolve().parents[2]
DOWN_MESSAGE = "CoinGecko cannot be reached right now (simulated)."


@dataclass(frozen=True)
class FakeReport:
    """The shape of ingestion's FetchReport, as far as the scheduler reads it."""

    run_id: int
    status: str
    calls_made: int
    points_written: int
    coins_requested: int
    error: str | None = None


class RecordingJob:
    """Stands in for fetch_latest: writes a fetch_runs row per call.

    It can sleep (a slow fetch) and raise for its first ``fail_first`` calls
    (CoinGecko down); it counts calls and how many ran at the same time.
    """

    def __init__(
        self, db: Database, worker: str, *, sleep: float = 0.0, fail_first: int = 0
    ) -> None:
        self.db = db
        self.worker = worker
        self.sleep = sleep
        self.fail_first = fail_first
        self.calls = 0
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def __call__(self) -> FakeReport:
        with self._lock:
            self.calls += 1
            call = self.calls
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            return self._fetch(call)
        finally:
            with self._lock:
                self.active -= 1

    def _fetch(self, call: int) -> FakeReport:
        started_at = datetime.now(UTC)
        if self.sleep:
            time.sleep(self.sleep)
        if call <= self.fail_first:
            raise UpstreamUnavailable(DOWN_MESSAGE, status=503)
        with self.db.session() as session:
            run = FetchRun(
                kind="latest",
                status="ok",
                started_at=started_at,
                finished_at=datetime.now(UTC),
                calls_made=1,
                points_written=2,
                coins_requested=2,
                worker=self.worker,
            )
            session.add(run)
            session.flush()
            return FakeReport(run.id, "ok", 1, 2, 2)


@dataclass(frozen=True)
class Run:
    id: int
    status: str
    worker: str | None
    started_at: datetime
    error: str | None


def fetch_runs(db: Database) -> list[Run]:
    with db.read_session() as session:
        rows = session.scalars(select(FetchRun).order_by(FetchRun.id))
        return [
            Run(row.id, row.status, row.worker, row.started_at, row.error)
            for row in rows
        ]


def wait_until(
    condition: Callable[[], bool], timeout: float, step: float = 0.05
) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def gaps(runs: Sequence[Run]) -> list[float]:
    starts = [run.started_at for run in runs]
    return [(b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False)]


class ChildProcess:
    """A python child whose standard error is collected line by line."""

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def wait_for(self, text: str, timeout: float) -> bool:
        return wait_until(
            lambda: self.saw(text) or self.process.poll() is not None, timeout
        ) and self.saw(text)

    def stop(self, number: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(number)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout=5)
        self._reader.join(timeout=5)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return code

    def log(self) -> str:
        return "".join(self.lines)


def start_scheduler_process(db_url: str, worker: str, interval: int) -> ChildProcess:
    return ChildProcess(
        [
            "-m",
            "tests.integration.scheduler_process",
            "--db-url",
            db_url,
            "--worker",
            worker,
            "--interval",
            str(interval),
        ]
    )
