"""Throttling of sign-ins per account, kept in the users table.

Every attempt on a known account is counted *before* its password is checked,
inside a locked row, so concurrent attempts cannot slip past the limits:

- failures 1 to 4 in the hour are free; from the 5th on, the account is locked
  for 1, 2, 4, ... seconds, at most 15 minutes (each lock is logged);
- no more than ``MAX_CHECKS_PER_HOUR`` attempts are checked per account and
  hour, whatever the delays (ASVS v4 2.2.1);
- a locked account is refused before bcrypt runs, which caps attacker CPU.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto_dash.db.engine import Database
from crypto_dash.db.models import User
from crypto_dash.errors import InvalidCredentials
from crypto_dash.services.principal import Principal

logger = logging.getLogger(__name__)

BAD_CREDENTIALS = "The user name or password is not right."
FREE_FAILURES = 4
MAX_LOCK_SECONDS = 15 * 60
MAX_CHECKS_PER_HOUR = 100
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Attempt:
    user_id: int | None
    password_hash: str | None
    is_active: bool
    retry_after: int = 0


def lock_seconds(failures: int) -> int:
    """How long the account stays locked after its ``failures``-th failure."""
    if failures <= FREE_FAILURES:
        return 0
    return int(min(2 ** (failures - FREE_FAILURES - 1), MAX_LOCK_SECONDS))


def admit(db: Database, key: str, now: datetime) -> Attempt:
    """Count an attempt on an account before its password is checked."""
    with db.session() as session:
        user = session.scalar(
            select(User).where(User.username_key == key).with_for_update()
        )
        if user is None:
            return Attempt(None, None, False)
        if user.locked_until is not None and user.locked_until > now:
            return Attempt(user.id, None, False, seconds_until(user.locked_until, now))
        window = user.failed_window_start
        if window is None or now - window >= WINDOW:
            user.failed_window_start, user.failed_login_count = now, 0
            window = now
        if user.failed_login_count >= MAX_CHECKS_PER_HOUR:
            user.locked_until = window + WINDOW
            logger.warning("sign-in for %s locked: hourly limit", user.username)
            return Attempt(user.id, None, False, seconds_until(window + WINDOW, now))
        user.failed_login_count += 1
        return Attempt(user.id, user.password_hash, user.is_active)


def record_failure(db: Database, user_id: int, now: datetime) -> None:
    """Lock the account for a while once the free failures are spent."""
    with db.session() as session:
        user = session.get(User, user_id, with_for_update=True)
        if user is None:
            return
        seconds = lock_seconds(user.failed_login_count)
        logger.info("sign-in failed for %s", user.username)
        if seconds:
            user.locked_until = now + timedelta(seconds=seconds)
            logger.warning(
                "sign-in for %s locked for %s s after %s failures this hour",
                user.username,
                seconds,
                user.failed_login_count,
            )


def record_success(
    db: Database, user_id: int, principal_for: Callable[[Session, User], Principal]
) -> Principal:
    """Reset the account's failures and return its principal."""
    with db.session() as session:
        user = session.get(User, user_id, with_for_update=True)
        if user is None:
            raise InvalidCredentials(BAD_CREDENTIALS)
        user.failed_login_count = 0
        user.failed_window_start = None
        user.locked_until = None
        logger.info("signed in: %s", user.username)
        return principal_for(session, user)


def seconds_until(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() + 0.999))
