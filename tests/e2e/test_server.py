"""The real server: `python -m crypto_dash serve` on an ephemeral loopback port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from crypto_dash.runtime import open_runtime
from crypto_dash.server.api.session import COOKIE_NAME
from crypto_dash.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"server ready on (http://127\.0\.0\.1:\d+)")
PASSWORD = "correct horse"


def wait_for(path: Path, pattern: re.Pattern[str], timeout: float = 30) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pattern.search(path.read_text()) if path.exists() else None
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{pattern.pattern!r} never appeared:\n{path.read_text()}")


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTO_DASH_")}
    return env | {
        "CRYPTO_DASH_DATA_DIR": str(tmp_path / "data"),
        "CRYPTO_DASH_BCRYPT_ROUNDS": "4",
        **extra,
    }


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`serve` on an ephemeral port; its base URL; SIGTERM (then kill) at the end."""
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "crypto_dash", "serve", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield wait_for(log, READY).group(1), process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def server(tmp_path):
    env = base_env(tmp_path, CRYPTO_DASH_SCHEDULER="off")
    log = tmp_path / "server.log"
    with serving(env, log) as (base, process):
        yield base, env, log, process


def create_admin(env: dict[str, str]) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "crypto_dash",
            "create-admin",
            "root",
            "--password-stdin",
        ],
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )


def test_the_server_answers_health_and_logs_a_setup_code_on_first_start(server):
    base, _, log, _ = server

    health = httpx.get(f"{base}/_stcore/health")

    assert health.status_code == 200 and health.text == "ok"
    assert re.search(r"one-time setup code [A-Z0-9-]{24}", log.read_text())


def test_the_json_api_works_on_the_same_server(server):
    base, env, _, _ = server
    create_admin(env)

    with httpx.Client(base_url=base) as client:
        pair = client.post(
            "/api/token/", json={"username": "root", "password": PASSWORD}
        ).json()
        auth = {"Authorization": f"Bearer {pair['access']}"}
        created = client.post(
            "/api/organizations/", json={"name": "Acme"}, headers=auth
        )
        listed = client.get("/api/organizations/", headers=auth)
        spec = client.get("/api/openapi.json")

    assert created.status_code == 201
    assert listed.json()["results"][0]["name"] == "Acme"
    assert "/api/crypto-prices/" in spec.json()["paths"]


def test_a_ticket_posted_to_the_real_server_sets_the_sign_in_cookie(
    server, monkeypatch
):
    base, env, _, _ = server
    create_admin(env)
    for name, value in env.items():
        if name.startswith("CRYPTO_DASH_"):
            monkeypatch.setenv(name, value)
    runtime = open_runtime(load_settings())
    principal = runtime.authenticator.authenticate("root", PASSWORD)
    ticket = runtime.authenticator.start_browser_session(principal)

    response = httpx.post(
        f"{base}/api/session/redeem/",
        json={"ticket": ticket},
        headers={"Origin": base},
    )
    cookie = response.cookies.get(COOKIE_NAME)

    assert response.status_code == 200
    assert "httponly" in response.headers["set-cookie"].lower()
    assert runtime.authenticator.principal_from_session(cookie).username == "root"
    runtime.close()


def test_sigterm_runs_the_shutdown_half_of_the_lifespan(server):
    _, _, log, process = server

    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=20)

    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert code in (0, -signal.SIGTERM)
    assert "crypto_dash server stopped" in log.read_text()


def test_the_server_runs_one_scheduler_that_fetches_and_stops_on_sigterm(tmp_path):
    from tests.fake_coingecko import FakeCoinGecko

    fake = FakeCoinGecko().start()
    env = base_env(
        tmp_path,
        CRYPTO_DASH_COINGECKO_BASE_URL=fake.base_url,
        CRYPTO_DASH_COINGECKO_CALLS_PER_MINUTE="600",
        CRYPTO_DASH_FETCH_INTERVAL_SECONDS="2",
    )
    create_admin(env)
    for command in (
        ["create-org", "Acme", "--owner", "root"],
        ["watch", "Acme", "bitcoin"],
    ):
        subprocess.run(
            [sys.executable, "-m", "crypto_dash", *command],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=60,
            capture_output=True,
        )
    log = tmp_path / "server.log"
    try:
        with serving(env, log) as (base, _):
            for _ in range(3):  # new HTTP clients must not start another scheduler
                assert httpx.get(f"{base}/_stcore/health", timeout=10).text == "ok"
            wait_for(log, re.compile(r"price fetch finished: ok"), timeout=40)
    finally:
        fake.stop()

    text = log.read_text()
    assert text.count("price scheduler started") == 1
    assert text.count("price scheduler stopped") == 1
    assert fake.calls["simple_price"] >= 1
    runtime = open_runtime(load_settings(env))
    with runtime.db.read_session() as session:
        from sqlalchemy import func, select

        from crypto_dash.db.models import MarketPrice

        stored = session.scalar(select(func.count()).select_from(MarketPrice))
    runtime.close()
    assert stored >= 1
