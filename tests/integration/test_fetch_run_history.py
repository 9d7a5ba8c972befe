"""The history of fetch runs on the admin page: newest first, paged, admins only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crypto_dash.db.engine import Database
from crypto_dash.errors import PermissionDenied
from crypto_dash.services.pagination import PageRequest
from crypto_dash.services.scheduler_status import list_fetch_runs
from tests.builders import make_user
from tests.builders_prices import add_fetch_run

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_runs_come_newest_first_in_pages_with_their_kind_and_error(
    db: Database,
) -> None:
    admin = make_user(db, "root", admin=True)
    for minute in range(5):
        add_fetch_run(db, "ok", START + timedelta(minutes=minute))
    add_fetch_run(db, "failed", START + timedelta(hours=1), error="CoinGecko is down.")
    add_fetch_run(db, "ok", START + timedelta(hours=2), kind="backfill")

    first = list_fetch_runs(admin, db, PageRequest(1, 3))
    last = list_fetch_runs(admin, db, PageRequest(3, 3))

    assert first.total == 7
    assert [(run.kind, run.status) for run in first.items] == [
        ("backfill", "ok"),
        ("latest", "failed"),
        ("latest", "ok"),
    ]
    assert first.items[1].error == "CoinGecko is down."
    assert [run.started_at for run in last.items] == [START]


def test_runs_can_be_narrowed_to_one_kind(db: Database) -> None:
    admin = make_user(db, "root", admin=True)
    add_fetch_run(db, "ok", START)
    add_fetch_run(db, "partial", START + timedelta(hours=1), kind="backfill")

    runs = list_fetch_runs(admin, db, PageRequest(), kind="backfill")

    assert [(run.kind, run.status) for run in runs.items] == [("backfill", "partial")]
    assert runs.total == 1


def test_the_run_history_is_refused_to_a_user_who_is_not_an_administrator(
    db: Database,
) -> None:
    add_fetch_run(db, "ok", START)

    with pytest.raises(PermissionDenied):
        list_fetch_runs(make_user(db, "alice"), db, PageRequest())
