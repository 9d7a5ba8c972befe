"""Leases: which process may do a named piece of background work, until when.

A lease is one row of ``scheduler_leases``. Taking or renewing it is a single
conditional UPDATE (``owner`` is me, or the lease has run out), which the
database applies atomically on SQLite (writes begin IMMEDIATE) and PostgreSQL
(the row lock makes a racing UPDATE re-check its WHERE clause); only when no
row exists yet is one INSERTed, and a lost race there is an IntegrityError.

These functions are plumbing for the scheduler, never reached from a page or a
route, so unlike the other services they take no Principal. Times come from
the caller's clock: hosts that share a database must keep their clocks in sync
(NTP); the lease's time to live absorbs skew well below it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, exists, literal, select, update
from sqlalchemy.exc import IntegrityError

from crypto_dash.db.engine import Database
from crypto_dash.db.models import SchedulerLease
from crypto_dash.db.types import UTCDateTime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseView:
    name: str
    owner: str
    acquired_at: datetime
    expires_at: datetime

    def is_live(self, now: datetime | None = None) -> bool:
        return self.expires_at > (now or datetime.now(UTC))


def try_acquire(
    db: Database,
    name: str,
    owner: str,
    ttl_seconds: float,
    *,
    now: datetime | None = None,
) -> bool:
    """Take the lease, or renew it if ``owner`` holds it; True when held after."""
    now = now or datetime.now(UTC)
    expires_at = now + timedelta(seconds=ttl_seconds)
    with db.session() as session:
        renewed = session.execute(
            update(SchedulerLease)
            .where(
                SchedulerLease.name == name,
                (SchedulerLease.owner == owner) | (SchedulerLease.expires_at <= now),
            )
            .values(
                owner=owner,
                acquired_at=case(
                    (SchedulerLease.owner == owner, SchedulerLease.acquired_at),
                    else_=literal(now, UTCDateTime()),
                ),
                expires_at=expires_at,
            )
            .execution_options(synchronize_session=False)
        )
        if renewed.rowcount == 1:
            return True
        if session.scalar(select(exists().where(SchedulerLease.name == name))):
            return False
        try:
            with session.begin_nested():
                session.add(
                    SchedulerLease(
                        name=name, owner=owner, acquired_at=now, expires_at=expires_at
                    )
                )
        except IntegrityError:
            return False
        return True


def release(db: Database, name: str, owner: str) -> bool:
    """Let the lease run out now, if ``owner`` holds it; True when it did."""
    now = datetime.now(UTC)
    with db.session() as session:
        result = session.execute(
            update(SchedulerLease)
            .where(
                SchedulerLease.name == name,
                SchedulerLease.owner == owner,
                SchedulerLease.expires_at > now,
            )
            .values(expires_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def current(db: Database, name: str) -> LeaseView | None:
    """The lease row as stored, live or run out; None when never taken."""
    with db.read_session() as session:
        row = session.get(SchedulerLease, name)
        if row is None:
            return None
        return LeaseView(row.name, row.owner, row.acquired_at, row.expires_at)
