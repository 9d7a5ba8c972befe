"""A backfill in a process of its own, for the crash tests to SIGKILL.

    python -m tests.integration.backfill_process --db-url URL --base-url URL \
        --since EPOCH --until EPOCH bitcoin ethereum ...

It writes "backfill started" to standard error once everything is imported
and the backfill begins, and "backfill finished: STATUS" at the end.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from crypto_dash.coingecko import CoinGeckoClient
from crypto_dash.db.engine import Database
from crypto_dash.services.backfill import backfill
from crypto_dash.services.principal import Principal


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--since", type=int, required=True)
    parser.add_argument("--until", type=int, required=True)
    parser.add_argument("coins", nargs="+")
    args = parser.parse_args()

    db = Database(args.db_url)
    client = CoinGeckoClient(base_url=args.base_url, calls_per_minute=60_000)
    print("backfill started", file=sys.stderr, flush=True)
    report = backfill(
        Principal.system(),
        db,
        client,
        args.coins,
        "usd",
        datetime.fromtimestamp(args.since, UTC),
        until=datetime.fromtimestamp(args.until, UTC),
    )
    print(f"backfill finished: {report.status}", file=sys.stderr, flush=True)
    client.close()
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
