"""The lease row: one holder at a time, handed on when it runs out."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from crypto_dash.db.engine import Database
from crypto_dash.services import leases

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_a_lease_has_one_holder_until_it_runs_out(db: Database) -> None:
    first = leases.try_acquire(db, "prices", "a", 10, now=T0)
    second = leases.try_acquire(db, "prices", "b", 10, now=T0 + timedelta(seconds=5))
    renewed = leases.try_acquire(db, "prices", "a", 10, now=T0 + timedelta(seconds=6))
    still_held = leases.try_acquire(
        db, "prices", "b", 10, now=T0 + timedelta(seconds=15)
    )
    taken_over = leases.try_acquire(
        db, "prices", "b", 10, now=T0 + timedelta(seconds=16)
    )

    assert (first, second, renewed, still_held, taken_over) == (
        True,
        False,
        True,
        False,
        True,
    )
    lease = leases.current(db, "prices")
    assert lease is not None
    assert lease.owner == "b"
    assert lease.acquired_at == T0 + timedelta(seconds=16)
    assert lease.expires_at == T0 + timedelta(seconds=26)


def test_renewing_a_lease_keeps_the_time_it_was_first_taken(db: Database) -> None:
    leases.try_acquire(db, "prices", "a", 10, now=T0)

    leases.try_acquire(db, "prices", "a", 10, now=T0 + timedelta(seconds=8))

    lease = leases.current(db, "prices")
    assert lease is not None
    assert lease.acquired_at == T0
    assert lease.expires_at == T0 + timedelta(seconds=18)


def test_a_released_lease_can_be_taken_at_once_by_another(db: Database) -> None:
    leases.try_acquire(db, "prices", "a", 60)

    released = leases.release(db, "prices", "a")
    taken = leases.try_acquire(db, "prices", "b", 60)

    assert released is True
    assert taken is True
    assert leases.release(db, "prices", "a") is False


def race(db_url: str, contenders: int) -> list[str]:
    """Let ``contenders`` processes' worth of engines grab the lease at once."""
    barrier = threading.Barrier(contenders)
    winners: list[str] = []
    databases = [Database(db_url) for _ in range(contenders)]

    def contend(index: int) -> None:
        barrier.wait()
        if leases.try_acquire(databases[index], "prices", f"w{index}", 30):
            winners.append(f"w{index}")

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for database in databases:
        database.dispose()
    return winners


def test_racing_for_a_lease_never_taken_gives_exactly_one_winner(
    db_url: str,
) -> None:
    winners = race(db_url, 8)

    assert len(winners) == 1


def test_racing_for_a_lease_that_ran_out_gives_exactly_one_winner(
    db: Database, db_url: str
) -> None:
    leases.try_acquire(db, "prices", "dead", 1, now=T0)

    winners = race(db_url, 8)

    assert len(winners) == 1
    lease = leases.current(db, "prices")
    assert lease is not None
    assert lease.owner == winners[0]
