"""A lease kept alive by a background thread, and what this process believes of it.

``held`` is a belief with a deadline: the lease is taken to be ours only until
the time to live, counted from just *before* the last successful renewal, has
passed on the local monotonic clock. So the belief always runs out no later
than the row in the database, and two processes never both believe they lead.
"""

from __future__ import annotations

import logging
import threading
import time

from crypto_dash.db.engine import Database
from crypto_dash.services import leases

logger = logging.getLogger(__name__)


class LeaseKeeper:
    """Take or renew one lease every ``every`` seconds until stopped."""

    def __init__(
        self,
        db: Database,
        name: str,
        owner: str,
        ttl_seconds: float,
        every: float,
        *,
        announce: bool = True,
    ) -> None:
        self.db = db
        self.name = name
        self.owner = owner
        self.ttl_seconds = ttl_seconds
        self.every = every
        self.announce = announce
        self._lock = threading.Lock()
        self._deadline = 0.0
        self._was_held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> bool:
        return time.monotonic() < self._deadline

    def refresh(self) -> bool:
        """Try once to take or renew the lease; True when this process holds it."""
        with self._lock:
            before = time.monotonic()
            try:
                taken = leases.try_acquire(
                    self.db, self.name, self.owner, self.ttl_seconds
                )
            except Exception:
                logger.exception(
                    "could not renew lease %r for %s", self.name, self.owner
                )
                taken = False
            self._deadline = before + self.ttl_seconds if taken else 0.0
            self._log_change(taken)
            return taken

    def _log_change(self, taken: bool) -> None:
        if taken and not self._was_held and self.announce:
            logger.info("%s now holds lease %r", self.owner, self.name)
        if self._was_held and not taken:
            logger.warning("%s lost lease %r", self.owner, self.name)
        self._was_held = taken

    def start(self) -> None:
        """Renew in a daemon thread, starting with an attempt right now."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, name=f"lease-{self.name}", daemon=True
        )
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.every)

    def stop(self, *, release: bool = True) -> None:
        """Stop renewing and, by default, let the lease run out at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.ttl_seconds + 5)
            self._thread = None
        with self._lock:
            was_held = self.held
            self._deadline = 0.0
            self._was_held = False
        if release and was_held:
            try:
                leases.release(self.db, self.name, self.owner)
            except Exception:
                logger.exception("could not release lease %r", self.name)
