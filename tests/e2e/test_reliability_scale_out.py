"""Scale-out on PostgreSQL: two web servers and one worker behind one database.

Two ``python -m crypto_dash serve`` processes (scheduler off) and one
``python -m crypto_dash worker`` share a PostgreSQL database, one JWT secret and
the fake CoinGecko, with a 2-second fetch interval. Both servers serve the same
data, a token from one is accepted by the other, and the fake sees exactly one
``/simple/price`` call per tick.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crypto_dash.db.engine import Database
from crypto_dash.services import watchlist
from tests.builders import PASSWORD, make_org, make_user
from tests.e2e.test_server import READY, ROOT, wait_for
from tests.fake_coingecko import FakeCoinGecko
from tests.fake_coingecko.helpers import client_for, seed_catalogue
from tests.integration.scheduler_support import (
    ChildProcess,
    fetch_runs,
    gaps,
    wait_until,
)

INTERVAL = 2
SECRET = "scale-out-secret-long-enough-for-hs256-0123456789abcdef"


@pytest.fixture
def fake() -> Iterator[FakeCoinGecko]:
    with FakeCoinGecko() as server:
        yield server


@pytest.fixture
def environment(db: Database, db_url: str, fake: FakeCoinGecko, tmp_path: Path):
    gecko = client_for(fake)
    seed_catalogue(db, gecko)
    gecko.close()
    owner = make_user(db, "olivia")
    org = make_org(db, "Acme", owner)
    for coin_id in ("bitcoin", "ethereum"):
        watchlist.add_to_watchlist(owner, db, org.id, coin_id)
    fake.calls.clear()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTO_DASH_")}
    env |= {
        "CRYPTO_DASH_DATA_DIR": str(tmp_path / "data"),
        "CRYPTO_DASH_DATABASE_URL": db_url,
        "CRYPTO_DASH_JWT_SECRET": SECRET,
        "CRYPTO_DASH_BCRYPT_ROUNDS": "4",
        "CRYPTO_DASH_COINGECKO_BASE_URL": fake.base_url,
        "CRYPTO_DASH_COINGECKO_CALLS_PER_MINUTE": "600",
        "CRYPTO_DASH_FETCH_INTERVAL_SECONDS": str(INTERVAL),
    }
    return env, org


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen | ChildProcess]]:
    started: list[subprocess.Popen | ChildProcess] = []
    yield started
    for process in started:
        if isinstance(process, ChildProcess):
            process.stop()
            continue
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_server(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "crypto_dash", "serve", "--port", "0"],
            cwd=ROOT,
            env=env | {"CRYPTO_DASH_SCHEDULER": "off"},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_servers_and_a_worker_share_data_sign_ins_and_one_fetch_per_tick(
    db, environment, fake, processes, tmp_path
):
    env, org = environment
    logs = [tmp_path / "server-a.log", tmp_path / "server-b.log"]
    processes.extend(start_server(env, log) for log in logs)
    worker = ChildProcess(["-m", "crypto_dash", "worker"], env=env)
    worker_started = time.monotonic()
    processes.append(worker)
    a, b = (wait_for(log, READY, timeout=60).group(1) for log in logs)
    assert worker.wait_for("price scheduler started", 60), worker.log()

    with httpx.Client(base_url=a, timeout=20) as on_a:
        pair = on_a.post(
            "/api/token/", json={"username": "olivia", "password": PASSWORD}
        ).json()
        auth = {"Authorization": f"Bearer {pair['access']}"}
        created = on_a.post(
            "/api/crypto-prices/",
            headers=auth,
            json={"org_id": str(org.id), "symbol": "BTC", "price": "65000.123456789"},
        )
        orgs_a = on_a.get("/api/organizations/", headers=auth).json()
    with httpx.Client(base_url=b, timeout=20) as on_b:
        orgs_b = on_b.get("/api/organizations/", headers=auth).json()
        prices_b = on_b.get(f"/api/crypto-prices/?org_id={org.id}", headers=auth).json()
        pair_b = on_b.post(
            "/api/token/refresh/", json={"refresh": pair["refresh"]}
        ).json()
    with httpx.Client(base_url=a, timeout=20) as on_a:
        again_a = on_a.get(
            "/api/organizations/",
            headers={"Authorization": f"Bearer {pair_b['access']}"},
        )

    ticked = wait_until(lambda: len(fetch_runs(db)) >= 3, timeout=4 * INTERVAL + 10)
    runs = fetch_runs(db)
    calls = fake.calls["simple_price"]
    elapsed = time.monotonic() - worker_started

    assert created.status_code == 201, created.text
    assert orgs_a == orgs_b
    assert [o["name"] for o in orgs_b["results"]] == ["Acme"]
    assert [p["price"] for p in prices_b["results"]] == ["65000.123456789"]
    assert again_a.status_code == 200
    assert ticked, worker.log()
    assert calls in (len(runs), len(runs) + 1)  # a fetch may be in flight
    assert calls <= elapsed / INTERVAL + 1
    assert {run.status for run in runs[:-1]} == {"ok"}
    assert runs[-1].status in ("ok", "running")  # the latest may be in flight
    assert len({run.worker for run in runs}) == 1
    assert all(gap > 0.5 * INTERVAL for gap in gaps(runs))
    assert all("price scheduler started" not in log.read_text() for log in logs)
