"""Sub-commands for prices: watch coins, fetch now, backfill history, refresh coins."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from crypto_dash.coingecko import CoinGeckoClient
from crypto_dash.runtime import open_runtime
from crypto_dash.services import backfill as backfills
from crypto_dash.services import coins, ingestion, watchlist
from crypto_dash.services.principal import Principal
from crypto_dash.settings import Settings

SYSTEM = Principal.system()
BAR_WIDTH = 30
MAX_BACKFILL_DAYS = 36_500


def register(commands: Any) -> None:
    watch = commands.add_parser(
        "watch", help="Add coins to an organization's watchlist."
    )
    watch.add_argument("org", metavar="ORG", help="Organization name or id.")
    watch.add_argument("coin_ids", metavar="COIN_ID", nargs="+", help="CoinGecko ids.")
    watch.set_defaults(handler=run_watch)

    fetch = commands.add_parser("fetch", help="Fetch the latest prices once, now.")
    fetch.set_defaults(handler=run_fetch)

    backfill = commands.add_parser("backfill", help="Store price history of coins.")
    backfill.add_argument("coin_ids", metavar="COIN_ID", nargs="+")
    backfill.add_argument(
        "--days", type=days_back, required=True, help="Days back from now."
    )
    backfill.add_argument("--vs", default=None, help="Quote currency (default: first).")
    backfill.set_defaults(handler=run_backfill)

    refresh = commands.add_parser(
        "refresh-coins", help="Store CoinGecko's coin list for search."
    )
    refresh.set_defaults(handler=run_refresh_coins)


def run_watch(args: argparse.Namespace, settings: Settings) -> int:
    from crypto_dash.cli.accounts import find_org

    runtime = open_runtime(settings)
    org = find_org(runtime, args.org)
    with CoinGeckoClient.from_settings(settings) as client:
        for coin_id in args.coin_ids:
            coin = watchlist.add_to_watchlist(
                SYSTEM, runtime.db, org.id, coin_id, client=client
            )
            symbol = coin.symbol.upper()
            print(f"{org.name} watches {coin.name} ({symbol}, {coin.coin_id})")
    runtime.close()
    return 0


def run_fetch(args: argparse.Namespace, settings: Settings) -> int:
    runtime = open_runtime(settings)
    worker = f"cli:{socket.gethostname()}:{os.getpid()}"
    with CoinGeckoClient.from_settings(settings) as client:
        report = ingestion.fetch_latest(
            SYSTEM, runtime.db, client, settings.vs_currencies, worker=worker
        )
    runtime.close()
    print(
        f"fetch {report.status}: {report.points_written} new points for "
        f"{report.coins_requested} coins in {report.calls_made} calls"
    )
    if report.error:
        print(report.error, file=sys.stderr)
    return 0 if report.status in ("ok", "partial") else 1


class ProgressBar:
    """A one-line bar on a terminal; silent when the output is not one."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, progress: backfills.BackfillProgress) -> None:
        if not self.enabled:
            return
        filled = int(progress.fraction * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(
            f"\r[{bar}] {progress.fraction:6.1%} {progress.coin_id:<24.24} "
            f"{progress.points_written:>8} points"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def _ensure_catalogued(runtime: Any, client: CoinGeckoClient, ids: list[str]) -> None:
    with runtime.db.read_session() as session:
        missing = [i for i in ids if coins.get_coin(session, i) is None]
    for coin_id in missing:
        coins.fetch_coin(runtime.db, client, coin_id)


def days_back(raw: str) -> int:
    """An argparse type: a whole number of days between 1 and 100 years."""
    try:
        days = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if not 1 <= days <= MAX_BACKFILL_DAYS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_BACKFILL_DAYS}")
    return days


def run_backfill(args: argparse.Namespace, settings: Settings) -> int:
    runtime = open_runtime(settings)
    vs = (args.vs or settings.vs_currencies[0]).lower()
    since = datetime.now(UTC) - timedelta(days=args.days)
    bar = ProgressBar(sys.stderr)
    with CoinGeckoClient.from_settings(settings) as client:
        _ensure_catalogued(runtime, client, args.coin_ids)
        try:
            report = backfills.backfill(
                SYSTEM, runtime.db, client, args.coin_ids, vs, since, progress=bar
            )
        finally:
            bar.close()
    runtime.close()
    for job in report.jobs:
        note = f" ({job.error})" if job.error else ""
        points = f"{job.points_written} points{note}"
        print(f"{job.coin_id}/{job.vs_currency}: {job.status}, {points}")
    print(
        f"backfill {report.status}: {report.points_written} new points in "
        f"{report.calls_made} calls"
    )
    return 0 if report.status == "ok" else 1


def run_refresh_coins(args: argparse.Namespace, settings: Settings) -> int:
    runtime = open_runtime(settings)
    with CoinGeckoClient.from_settings(settings) as client:
        report = coins.refresh_catalogue(SYSTEM, runtime.db, client)
    runtime.close()
    print(f"stored {report.coins_listed} coins, {report.coins_ranked} with ranks")
    return 0
