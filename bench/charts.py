"""The one-year chart query for one coin against a bare sqlite3 read of its rows.

    /work/main/.venv/bin/python -m bench.charts

Target: the bucketed query takes at most 0.5 of the bare read's time.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime

from bench.common import (
    COINS,
    POINTS_PER_YEAR,
    STEP,
    YEAR_START,
    build_database,
    interleaved,
)
from crypto_dash.services import history

REPEAT = 25
BARE = (
    "SELECT observed_at, price, price_float FROM market_prices"
    " WHERE coin_id = ? AND vs_currency = 'usd'"
    " AND observed_at >= ? AND observed_at < ? ORDER BY observed_at"
)


def main() -> None:
    db, path, viewer = build_database()
    coin = COINS[3]
    end = YEAR_START + POINTS_PER_YEAR * STEP
    start_at = datetime.fromtimestamp(YEAR_START, UTC)
    end_at = datetime.fromtimestamp(end, UTC)
    print(f"database: {path} ({len(COINS)} coins x {POINTS_PER_YEAR:,} points)")

    raw = sqlite3.connect(path)

    def bare() -> int:
        return len(raw.execute(BARE, (coin, YEAR_START, end)).fetchall())

    def chart() -> int:
        result = history.price_history(
            viewer, db, db.org_id, [coin], "usd", start_at, end_at
        )
        return len(result.series[0].frame)

    rows, buckets = bare(), chart()
    (bare_best, bare_median), (chart_best, chart_median) = interleaved(
        bare, chart, REPEAT
    )
    ratio = chart_median / bare_median
    print(f"bare sqlite3 read: {rows:,} rows, median {bare_median * 1000:.1f} ms")
    print(f"  (best {bare_best * 1000:.1f} ms)")
    print(f"chart query: {buckets:,} buckets, median {chart_median * 1000:.1f} ms")
    print(f"  (best {chart_best * 1000:.1f} ms)")
    verdict = "met" if ratio <= 0.5 else "MISSED"
    print(f"chart / bare = {ratio:.2f} (target <= 0.50: {verdict})")
    raw.close()
    db.dispose()
    shutil.rmtree(path.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
