"""Client-side pacing and the waits between retries.

``Pacer`` spaces calls evenly at the plan's calls per minute, across threads.
``wait_from_headers`` reads how long CoinGecko asks us to wait (Retry-After as
seconds or an HTTP date, else x-ratelimit-reset), and ``backoff`` gives the
jittered exponential wait when it does not say.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

logger = logging.getLogger(__name__)

RESET_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z")


class Pacer:
    """Hand out call slots no closer than ``60 / calls_per_minute`` seconds."""

    def __init__(
        self,
        calls_per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls_per_minute < 1:
            raise ValueError("calls_per_minute must be at least 1")
        self.interval = 60.0 / calls_per_minute
        self._clock = clock
        self._sleep = sleep
        self._next = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for the next slot and return how long we waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        wait = slot - now
        if wait > 0:
            logger.debug("pacing: waiting %.2fs for the next CoinGecko slot", wait)
            self._sleep(wait)
        return wait

    def defer(self, seconds: float) -> None:
        """Keep every caller off the API for ``seconds`` (after a 429)."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)


def _parse_seconds(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def _parse_date(raw: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        pass
    for layout in RESET_FORMATS:
        try:
            return datetime.strptime(raw, layout)
        except ValueError:
            continue
    return None


def _delay_until(raw: str, now: datetime) -> float | None:
    when = _parse_date(raw)
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def wait_from_headers(
    headers: Mapping[str, str], now: datetime | None = None
) -> float | None:
    """Seconds the server asks us to wait, or None when it does not say."""
    now = now or datetime.now(UTC)
    retry_after = (headers.get("retry-after") or "").strip()
    if retry_after:
        seconds = _parse_seconds(retry_after)
        if seconds is None:
            seconds = _delay_until(retry_after, now)
        if seconds is not None:
            return seconds
    reset = (headers.get("x-ratelimit-reset") or "").strip()
    if not reset:
        return None
    seconds = _parse_seconds(reset)
    if seconds is not None and seconds > 1_000_000_000:  # an epoch time
        return max(0.0, seconds - now.timestamp())
    return seconds if seconds is not None else _delay_until(reset, now)


def backoff(
    attempt: int,
    *,
    base: float = 1.0,
    cap: float = 30.0,
    rng: random.Random | None = None,
) -> float:
    """A jittered exponential wait for retry number ``attempt`` (0-based)."""
    ceiling = min(cap, base * 2**attempt)
    return ceiling * (rng or random).uniform(0.5, 1.0)
