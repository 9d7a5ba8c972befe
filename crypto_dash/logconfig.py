"""Log set-up for entry points (CLI, server, worker); library modules only log."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """Send log lines to standard error at ``level``, once per process."""
    root = logging.getLogger()
    if not any(getattr(h, "_crypto_dash", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._crypto_dash = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO; ours already says what it fetched.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    # APScheduler logs every tick at INFO; the scheduler writes its own line.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
