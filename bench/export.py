"""CSV export of 1,000,000 rows against a bare sqlite3-to-csv.writer loop.

    /work/main/.venv/bin/python -m bench.export

Targets: at least 0.5 of the bare loop's rows per second; peak memory under
100 MB above the idle process, and within 20 MB of the figure for 100,000 rows.
Memory is measured in a child process per export (peak RSS from
/proc/self/status, and the tracemalloc peak in a separate child).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, datetime

from bench.common import COINS, STEP, YEAR_START, build_database
from crypto_dash.db.engine import Database
from crypto_dash.services import export
from crypto_dash.services.principal import Principal

REPEAT = 3
PER_COIN = 100_000
END = YEAR_START + PER_COIN * STEP
BARE = (
    "SELECT p.coin_id, c.symbol, p.vs_currency, p.observed_at, p.price, p.source"
    " FROM market_prices p JOIN coins c ON c.id = p.coin_id"
    " WHERE p.coin_id IN ({coins}) AND p.observed_at < ?"
    " ORDER BY p.coin_id, p.vs_currency, p.observed_at"
)


def ours(db: Database, viewer: Principal, org_id: object, coins: list[str]) -> int:
    end = datetime.fromtimestamp(END, UTC)
    rows = 0
    with open(os.devnull, "w") as sink:
        for chunk in export.export_rows(viewer, db, org_id, coins, None, end, "UTC"):
            sink.write(chunk)
            rows += chunk.count("\n")
    return rows - 1


def bare(path: str, coins: list[str]) -> int:
    connection = sqlite3.connect(path)
    query = BARE.format(coins=", ".join("?" * len(coins)))
    rows = 0
    with open(os.devnull, "w") as sink:
        writer = csv.writer(sink)
        for row in connection.execute(query, (*coins, END)):
            writer.writerow(row)
            rows += 1
    connection.close()
    return rows


def rss_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child(path: str, org: str, user_id: int, count: int, traced: bool) -> None:
    """Export ``count`` coins' rows in this process and print its memory."""
    db = Database(f"sqlite:///{path}")
    viewer = Principal(user_id, "bench")
    ours(db, viewer, uuid.UUID(org), COINS[:1])  # warm imports and caches
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the peak RSS to the current RSS
    idle = rss_kb("VmRSS")
    if traced:
        tracemalloc.start()
    rows = ours(db, viewer, uuid.UUID(org), COINS[:count])
    peak_traced = tracemalloc.get_traced_memory()[1] if traced else 0
    print(
        json.dumps(
            {
                "rows": rows,
                "idle_mb": idle / 1024,
                "peak_rss_above_idle_mb": (rss_kb("VmHWM") - idle) / 1024,
                "tracemalloc_peak_mb": peak_traced / 2**20,
            }
        )
    )


def measure_memory(path: str, org: object, user_id: int, count: int) -> dict:
    figures: dict = {}
    for traced in (False, True):
        command = [sys.executable, "-m", "bench.export", "--child", path, str(org)]
        command += [str(user_id), str(count), "traced" if traced else "plain"]
        output = subprocess.run(command, check=True, capture_output=True, text=True)
        result = json.loads(output.stdout.strip().splitlines()[-1])
        figures.update({k: v for k, v in result.items() if v or not traced})
    return figures


def main() -> None:
    db, path, viewer = build_database()
    org = db.org_id  # type: ignore[attr-defined]
    print(f"database: {path}; exporting {len(COINS)} coins x {PER_COIN:,} points")
    ours_times, bare_times = [], []
    for _ in range(REPEAT):
        started = time.perf_counter()
        bare_rows = bare(str(path), COINS)
        bare_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        our_rows = ours(db, viewer, org, COINS)
        ours_times.append(time.perf_counter() - started)
    bare_rate, our_rate = bare_rows / min(bare_times), our_rows / min(ours_times)
    print(f"bare sqlite3 -> csv.writer: {bare_rows:,} rows, {bare_rate:,.0f} rows/s")
    print(f"export_rows: {our_rows:,} rows, {our_rate:,.0f} rows/s")
    ratio = our_rate / bare_rate
    verdict = "met" if ratio >= 0.5 else "MISSED"
    print(f"export / bare = {ratio:.2f} (target >= 0.50: {verdict})")

    small = measure_memory(str(path), org, viewer.user_id, 1)
    large = measure_memory(str(path), org, viewer.user_id, len(COINS))
    for name, figures in (("100,000 rows", small), ("1,000,000 rows", large)):
        print(
            f"memory, {name}: peak RSS {figures['peak_rss_above_idle_mb']:.1f} MB"
            f" above idle ({figures['idle_mb']:.1f} MB),"
            f" tracemalloc peak {figures['tracemalloc_peak_mb']:.1f} MB"
        )
    growth = large["peak_rss_above_idle_mb"] - small["peak_rss_above_idle_mb"]
    above = large["peak_rss_above_idle_mb"]
    print(
        f"1M rows: {above:.1f} MB above idle (target < 100: "
        f"{'met' if above < 100 else 'MISSED'}), {growth:+.1f} MB against 100k"
        f" (target within 20: {'met' if abs(growth) <= 20 else 'MISSED'})"
    )
    db.dispose()
    shutil.rmtree(path.parent, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, path, org, user_id, count, mode = sys.argv
        child(path, org, int(user_id), int(count), mode == "traced")
    else:
        main()
