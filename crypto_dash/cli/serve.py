"""``python -m crypto_dash serve``: the dashboard and the JSON API in one process."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from crypto_dash.errors import ConfigError
from crypto_dash.settings import Settings

logger = logging.getLogger(__name__)


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve", help="Run the dashboard and the JSON API (Streamlit st.App)."
    )
    serve.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
    serve.add_argument(
        "--port", type=int, default=8501, help="Port to listen on (0: any free one)."
    )
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from crypto_dash.server.app import SCRIPT, create_app

    if not 0 <= args.port <= 65535:
        raise ConfigError("port", f"The port must be 0 to 65535, not {args.port}.")
    app = create_app()
    # App.run() treats sys.argv[0] as the launcher and resolves the page script
    # and its folder from it; point it at the page script, as `streamlit run` does.
    sys.argv = [str(SCRIPT)]
    logger.info("starting the server on %s:%s", args.host, args.port)
    app.run(
        config={
            "server.address": args.host,
            "server.port": args.port,
            "server.headless": True,
            "server.fileWatcherType": "none",
            "server.runOnSave": False,
            "browser.gatherUsageStats": False,
            # A self-hosted dashboard has nothing to deploy: hide that menu.
            "client.toolbarMode": "minimal",
        }
    )
    return 0
