"""The scheduler admin page: status, "fetch now" against the fake, the run history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Role
from crypto_dash.services import market
from tests.builders import join, make_org, make_user
from tests.builders_prices import add_coin, add_fetch_run, watch
from tests.e2e.apptest_support import column, open_app, shown
from tests.fake_coingecko import FakeCoinGecko

__all__ = ["open_app"]

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCoinGecko]:
    with FakeCoinGecko() as server:
        monkeypatch.setenv("CRYPTO_DASH_COINGECKO_BASE_URL", server.base_url)
        monkeypatch.setenv("CRYPTO_DASH_COINGECKO_CALLS_PER_MINUTE", "6000")
        yield server


@pytest.fixture
def admin(db: Database):
    return make_user(db, "root", admin=True)


def open_scheduler(open_app, principal, **options):
    return open_app(principal, **options).switch_page("pages/admin_scheduler.py").run()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.OWNER])
def test_non_admins_have_no_scheduler_page(db: Database, open_app, role: Role) -> None:
    owner = make_user(db, "olga")
    org = make_org(db, "Acme", owner)
    user = owner
    if role != Role.OWNER:
        user = make_user(db, "mia")
        join(db, org.id, user, role)

    at = open_app(user)

    with pytest.raises(ValueError):
        at.switch_page("pages/admin_scheduler.py")


def test_before_any_run_the_page_says_what_to_do(db: Database, open_app, admin) -> None:
    at = open_scheduler(open_app, admin)

    assert shown(at, "info") == [
        "No fetch has run yet. Press Fetch now, or wait for the scheduler."
    ]
    status = shown(at, "markdown")[0]
    assert "Leader: no process leads right now" in status
    assert "Last run: none yet" in status


def test_the_status_and_run_history_show_the_last_run_and_last_error(
    db: Database, open_app, admin
) -> None:
    add_fetch_run(db, "failed", START, error="CoinGecko answered 503.")
    add_fetch_run(db, "ok", START + timedelta(minutes=5))
    add_fetch_run(db, "ok", START + timedelta(minutes=7), kind="backfill")

    at = open_scheduler(open_app, admin, timezone="Europe/Paris")

    status = shown(at, "markdown")[0]
    assert "Last run: ok at 2024-05-01 14:05:00 (Europe/Paris)" in status
    assert "Last error: failed at 2024-05-01 14:00:00" in status
    assert "CoinGecko answered 503." in status
    assert column(at, "Status") == ["ok", "ok", "failed"]
    assert column(at, "Kind") == ["backfill", "latest", "latest"]
    assert column(at, "Error")[2] == "CoinGecko answered 503."


def test_the_history_narrows_to_backfills(db: Database, open_app, admin) -> None:
    add_fetch_run(db, "ok", START)
    add_fetch_run(db, "partial", START + timedelta(hours=1), kind="backfill")
    at = open_scheduler(open_app, admin)

    at.selectbox(key="runs_kind").select("Backfills").run()

    assert column(at, "Status") == ["partial"]


def test_fetch_now_runs_the_real_job_and_stores_prices(
    db: Database, open_app, admin, fake
) -> None:
    owner = make_user(db, "olga")
    org = make_org(db, "Acme", owner)
    add_coin(db, "bitcoin", "btc")
    watch(db, org.id, "bitcoin")
    at = open_scheduler(open_app, admin)

    at.button(key="fetch_now").click().run()

    (message,) = shown(at, "success")
    assert message.startswith("Fetch run #") and message.endswith(
        "finished: prices are up to date."
    )
    assert column(at, "Status") == ["ok"]
    assert fake.calls["simple_price"] == 1
    (price,) = market.latest_prices(owner, db, org.id, "usd")
    assert price.price is not None


def test_a_rate_limited_fetch_now_says_so(db: Database, open_app, admin, fake) -> None:
    org = make_org(db, "Acme", make_user(db, "olga"))
    add_coin(db, "bitcoin", "btc")
    watch(db, org.id, "bitcoin")
    fake.set_fault("rate_limit", retry_after=None)
    at = open_scheduler(open_app, admin)

    at.button(key="fetch_now").click().run()

    (message,) = shown(at, "warning")
    assert "ended rate_limited" in message
    assert column(at, "Status") == ["rate_limited"]
