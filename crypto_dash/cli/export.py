"""``python -m crypto_dash export``: an organization's prices as CSV on stdout."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from crypto_dash.cli.accounts import SYSTEM, find_org
from crypto_dash.runtime import open_runtime
from crypto_dash.services import export
from crypto_dash.settings import Settings

logger = logging.getLogger(__name__)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "export", help="Write an organization's stored prices as CSV to stdout."
    )
    parser.add_argument("--org", required=True, help="Organization name or id.")
    parser.add_argument(
        "--coin",
        action="append",
        metavar="ID",
        help="CoinGecko id of a watchlist coin; repeat it; default: all of them.",
    )
    parser.add_argument(
        "--from", dest="start", metavar="DATE", help="First day or ISO date-time."
    )
    parser.add_argument(
        "--to", dest="end", metavar="DATE", help="Last day (included) or date-time."
    )
    parser.add_argument(
        "--tz", default="UTC", metavar="ZONE", help="Time zone, e.g. Europe/Berlin."
    )
    parser.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    zone = export.parse_zone(args.tz)
    start = export.parse_bound(args.start, zone, end=False)
    end = export.parse_bound(args.end, zone, end=True)
    runtime = open_runtime(settings)
    try:
        org = find_org(runtime, args.org)
        chunks = export.export_rows(
            SYSTEM, runtime.db, org.id, args.coin, start, end, zone
        )
        return _write(chunks)
    finally:
        runtime.close()


def _write(chunks: Any) -> int:
    out = sys.stdout
    try:
        for chunk in chunks:
            out.write(chunk)
        out.flush()
    except BrokenPipeError:
        # The reader (say, ``head``) has had enough; that is not an error.
        logger.debug("stdout closed early")
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit stays quiet
    return 0
