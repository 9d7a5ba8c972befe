"""Benchmark: 50 concurrent JSON API clients against the real server on loopback.

Starts ``python -m crypto_dash serve --port 0`` (scheduler off) on a fresh
SQLite database (or ``--url``), with five editors of one organization. Each
client signs in once as one of them, then loops: list organizations, read a
random page of the organization's prices, add a price entry. Prints requests
per second, p50/p95/max latency per kind of request, and the error count.

    python bench/load_api.py [--clients 50] [--seconds 60] [--url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from crypto_dash.db import migrate  # noqa: E402
from crypto_dash.db.engine import Database  # noqa: E402
from crypto_dash.db.models import Role  # noqa: E402
from crypto_dash.services import members, organizations, users  # noqa: E402
from crypto_dash.services.principal import Principal  # noqa: E402

READY = re.compile(r"server ready on (http://127\.0\.0\.1:\d+)")
PASSWORD = "correct horse"
EDITORS = 5
SECRET = "bench-secret-" + "x" * 40


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def prepare(url: str) -> str:
    """Migrate, create the editors and their organization; return its id."""
    db = Database(url)
    migrate.upgrade(db.engine)
    system = Principal.system()
    owner = users.create_user(system, db, "owner", PASSWORD, rounds=4)
    org = organizations.create_organization(system, db, "Load Desk", owner_id=owner.id)
    for n in range(EDITORS):
        users.create_user(system, db, f"editor{n}", PASSWORD, rounds=4)
        members.add_member(system, db, org.id, f"editor{n}", Role.EDITOR)
    db.dispose()
    return str(org.id)


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "crypto_dash", "serve", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = READY.search(log.read_text())
        if found:
            return process, found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start:\n" + log.read_text())


async def client_loop(
    base: str,
    n: int,
    org_id: str,
    until: float,
    latencies: dict[str, list[float]],
    errors: Counter[str],
) -> None:
    rng = random.Random(n)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        pair = await http.post(
            "/api/token/",
            json={"username": f"editor{n % EDITORS}", "password": PASSWORD},
        )
        if pair.status_code != 200:
            errors[f"sign-in {pair.status_code}"] += 1
            return
        headers = {"Authorization": f"Bearer {pair.json()['access']}"}
        i = 0
        while time.monotonic() < until:
            i += 1
            requests = [
                ("orgs", "GET", "/api/organizations/", None),
                (
                    "prices",
                    "GET",
                    f"/api/crypto-prices/?org_id={org_id}&page={rng.randint(1, 5)}"
                    "&page_size=20",
                    None,
                ),
                (
                    "write",
                    "POST",
                    "/api/crypto-prices/",
                    {"org_id": org_id, "symbol": "BTC", "price": f"{n + 1}.{i}"},
                ),
            ]
            for kind, method, path, body in requests:
                started = time.perf_counter()
                try:
                    response = await http.request(
                        method, path, json=body, headers=headers
                    )
                except httpx.HTTPError as exc:
                    errors[f"{kind} {type(exc).__name__}"] += 1
                    continue
                latencies[kind].append((time.perf_counter() - started) * 1000)
                if response.status_code >= 400:
                    errors[f"{kind} {response.status_code}"] += 1


async def load(base: str, org_id: str, clients: int, seconds: float):
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    until = time.monotonic() + seconds
    started = time.monotonic()
    await asyncio.gather(
        *(
            client_loop(base, n, org_id, until, latencies, errors)
            for n in range(clients)
        )
    )
    return latencies, errors, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--url", default="", help="database URL (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        url = args.url or f"sqlite:///{data / 'load.sqlite3'}"
        org_id = prepare(url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTO_DASH_")}
        env |= {
            "CRYPTO_DASH_DATA_DIR": str(data),
            "CRYPTO_DASH_DATABASE_URL": url,
            "CRYPTO_DASH_JWT_SECRET": SECRET,
            "CRYPTO_DASH_SCHEDULER": "off",
        }
        process, base = start_server(env, data / "server.log")
        try:
            latencies, errors, took = asyncio.run(
                load(base, org_id, args.clients, args.seconds)
            )
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    total = sum(len(v) for v in latencies.values())
    print(f"backend: {url.split(':')[0]}, {args.clients} clients, {took:.0f} s")
    print(f"requests: {total} ({total / took:.0f}/s), errors: {sum(errors.values())}")
    every = [ms for values in latencies.values() for ms in values]
    print(
        f"  all    p50 {percentile(every, 0.5):6.1f} ms  "
        f"p95 {percentile(every, 0.95):6.1f} ms  max {max(every, default=0):6.1f} ms"
    )
    for kind in ("orgs", "prices", "write"):
        values = latencies[kind]
        print(
            f"  {kind:6} p50 {percentile(values, 0.5):6.1f} ms  "
            f"p95 {percentile(values, 0.95):6.1f} ms  ({len(values)} requests)"
        )
    for name, count in errors.most_common(5):
        print(f"  error {name}: {count}")


if __name__ == "__main__":
    main()
