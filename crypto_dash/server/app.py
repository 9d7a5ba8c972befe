"""Build the one server process: ``st.App`` with the API routes and a lifespan.

The lifespan opens the runtime once per process (through ``ui.get_runtime``,
so the pages share it), makes the first-start setup code when there are no
users yet, and starts the background work; on shutdown it stops that work.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.concurrency import run_in_threadpool

from crypto_dash.runtime import Runtime
from crypto_dash.scheduler import start_scheduler
from crypto_dash.server import ui
from crypto_dash.server.api import ApiContext, api_routes

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT_ROOT / "streamlit_app.py"


def start_background(runtime: Runtime) -> Callable[[], None]:
    """Start the price scheduler unless it is off here; return how to stop it."""
    scheduler = start_scheduler(runtime)
    runtime.scheduler = scheduler
    if scheduler is None:
        return lambda: None

    def stop() -> None:
        runtime.scheduler = None
        scheduler.shutdown(wait=True)

    return stop


def create_app(
    *,
    script: Path = SCRIPT,
    open_runtime: Callable[[], Runtime] = ui.get_runtime,
) -> st.App:
    """The ASGI app: Streamlit pages at ``/``, the JSON API under ``/api/``."""
    context = ApiContext()

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
        runtime = await run_in_threadpool(open_runtime)
        context.attach(runtime)
        await run_in_threadpool(runtime.authenticator.ensure_setup_code)
        stop = start_background(runtime)
        logger.info("crypto_dash server ready on %s", _address())
        try:
            yield {"runtime": runtime}
        finally:
            stop()
            context.attach(None)
            logger.info("crypto_dash server stopped")

    return st.App(str(script), routes=api_routes(context), lifespan=lifespan)


def _address() -> str:
    from streamlit import config

    host = config.get_option("server.address") or "0.0.0.0"
    return f"http://{host}:{config.get_option('server.port')}"
