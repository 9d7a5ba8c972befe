"""The ``python -m crypto_dash`` command line.

Each module in ``COMMAND_MODULES`` adds its sub-commands through ``register``;
a handler gets the parsed arguments and the settings and returns an exit code.
Errors of ours become one sentence on standard error and exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from crypto_dash.errors import CryptoDashError
from crypto_dash.logconfig import configure_logging
from crypto_dash.settings import load_settings

logger = logging.getLogger(__name__)

COMMAND_MODULES = ("crypto_dash.cli.accounts",)
OPTIONAL_MODULES = (
    "crypto_dash.cli.serve",
    "crypto_dash.cli.prices",
    "crypto_dash.cli.export",
    "crypto_dash.cli.worker",
)


def _modules() -> list[str]:
    found = list(COMMAND_MODULES)
    for name in OPTIONAL_MODULES:
        if importlib.util.find_spec(name) is not None:
            found.append(name)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crypto_dash",
        description="Run and administer the crypto_dash price dashboard.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _modules():
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command and return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        return int(args.handler(args, settings))
    except CryptoDashError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
