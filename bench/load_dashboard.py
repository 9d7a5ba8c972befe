"""Benchmark: 20 concurrent dashboard sessions rendering a page, server-side.

Each session is a Streamlit ``AppTest`` (the real ``streamlit_app.py`` and its
pages, without a browser) in a process of its own, signed in as an editor of an
organization with 500 price entries and two watched coins holding a year of
five-minute prices each (the history page charts the whole year). AppTest in
threads of one process is not safe: runs tear down each other's Streamlit
runtime, and CPython 3.11 can fail compiling a page in two threads at once; a
server has one runtime for all.
Every session opens the app, switches to the page and re-runs it ``--rounds``
times, as a browser does on each click.
Prints the server-side render time of one page run: p50, p95 and max.

    python bench/load_dashboard.py [--sessions 20] [--rounds 10] \
        [--page pages/history.py] [--url URL]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import multiprocessing.synchronize
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.runtime.pages_manager import PagesManager  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from crypto_dash.db import migrate  # noqa: E402
from crypto_dash.db.engine import Database  # noqa: E402
from crypto_dash.db.models import Coin, Role, WatchlistItem  # noqa: E402
from crypto_dash.services import (  # noqa: E402
    members,
    organizations,
    price_entries,
    users,
)
from crypto_dash.services.price_points import PricePoint, write_points  # noqa: E402
from crypto_dash.services.principal import Principal  # noqa: E402

ENTRY = str(ROOT / "streamlit_app.py")
POINTS_PER_YEAR = 365 * 288


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def navigation_only() -> None:
    """As tests/e2e/apptest_support.py: every run goes through the entry script."""
    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init  # type: ignore[method-assign]


def prepare(url: str, sessions: int) -> list[Principal]:
    db = Database(url)
    migrate.upgrade(db.engine)
    system = Principal.system()
    owner = users.create_user(system, db, "owner", "correct horse", rounds=4)
    org = organizations.create_organization(system, db, "Load Desk", owner_id=owner.id)
    principal = Principal(user_id=owner.id, username="owner", is_admin=False)
    for i in range(500):
        price_entries.create_entry(principal, db, org.id, "BTC", f"65000.{i:04d}")
    store_a_year_of_prices(db, org.id)
    editors = []
    for n in range(sessions):
        view = users.create_user(system, db, f"editor{n}", "correct horse", rounds=4)
        members.add_member(system, db, org.id, view.username, Role.EDITOR)
        editors.append(Principal(user_id=view.id, username=view.username))
    db.dispose()
    return editors


def store_a_year_of_prices(db: Database, org_id: object) -> None:
    """Two watched coins with a year of five-minute points each, for the charts."""
    now = int(time.time()) // 300 * 300
    with db.session() as session:
        for coin_id, symbol in (("bitcoin", "btc"), ("ethereum", "eth")):
            session.add(Coin(id=coin_id, symbol=symbol, name=coin_id.title()))
            session.add(WatchlistItem(organization_id=org_id, coin_id=coin_id))
    for coin_id, base in (("bitcoin", 65000), ("ethereum", 3000)):
        points = (
            PricePoint(
                coin_id=coin_id,
                vs_currency="usd",
                observed_at=now - 300 * i,
                price=Decimal(f"{base + (i % 997) / 7:.6f}"),
                market_cap=None,
                volume_24h=None,
                change_24h_pct=None,
                source="bench",
                fetched_at=now,
            )
            for i in range(POINTS_PER_YEAR)
        )
        with db.session() as session:
            write_points(session, points)


def session(
    principal: Principal,
    page: str,
    rounds: int,
    start: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue,
) -> None:
    times: list[float] = []
    errors: list[str] = []
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)
    try:
        at = AppTest.from_file(ENTRY, default_timeout=120)
        at.session_state["principal"] = principal
        start.wait()
        at.run()
        at.switch_page(page)
        if page.endswith("history.py"):
            at.run()
            at.radio(key="hist_range").set_value("1y")
        for _ in range(rounds):
            started = time.perf_counter()
            at.run()
            times.append((time.perf_counter() - started) * 1000)
            if at.exception:
                errors.append(str(at.exception[0].message))
        if not (len(at.dataframe) or len(at.table) or at.get("plotly_chart")):
            errors.append(f"{principal.username}: the page showed no table or chart")
    except Exception as exc:  # noqa: BLE001 - counted and reported
        errors.append(f"{type(exc).__name__}: {exc}")
    results.put((times, errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--page", default="pages/history.py")
    parser.add_argument("--url", default="", help="database URL (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'dash.sqlite3'}"
        os.environ["CRYPTO_DASH_DATABASE_URL"] = url
        os.environ["CRYPTO_DASH_DATA_DIR"] = folder
        navigation_only()
        editors = prepare(url, args.sessions)
        start = multiprocessing.Barrier(args.sessions)
        results: multiprocessing.Queue = multiprocessing.Queue()
        workers = [
            multiprocessing.Process(
                target=session, args=(p, args.page, args.rounds, start, results)
            )
            for p in editors
        ]
        began = time.monotonic()
        for worker in workers:
            worker.start()
        times: list[float] = []
        errors: list[str] = []
        for _ in workers:
            done, failed = results.get(timeout=600)
            times += done
            errors += failed
        for worker in workers:
            worker.join()
        took = time.monotonic() - began
    print(f"{args.sessions} concurrent sessions x {args.rounds} runs of {args.page}")
    print(f"page runs: {len(times)} in {took:.1f} s, errors: {len(errors)}")
    print(
        f"  render ms: p50 {percentile(times, 0.5):.0f}  "
        f"p95 {percentile(times, 0.95):.0f}  max {max(times, default=0):.0f}"
    )
    for error in errors[:5]:
        print("  error:", error)


if __name__ == "__main__":
    main()
