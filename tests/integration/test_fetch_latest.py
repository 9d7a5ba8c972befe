"""The latest-price fetch against the fake CoinGecko, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crypto_dash.db.models import FetchRun, MarketPrice, Role
from crypto_dash.errors import PermissionDenied
from crypto_dash.services import watchlist
from crypto_dash.services.ingestion import fetch_latest
from crypto_dash.services.principal import Principal
from tests.builders import join, make_org, make_user
from tests.fake_coingecko import FakeCoinGecko, price_of
from tests.fake_coingecko.helpers import RecordedSleep, client_for, seed_catalogue

SYSTEM = Principal.system()
NOW = 1_760_000_000


@pytest.fixture
def fake() -> Iterator[FakeCoinGecko]:
    with FakeCoinGecko(now=NOW) as server:
        yield server


@pytest.fixture
def sleep() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
def client(fake, sleep):
    gecko = client_for(fake, sleep=sleep)
    yield gecko
    gecko.close()


def watch(db, client, *coin_ids):
    seed_catalogue(db, client)
    owner = make_user(db, "olivia")
    org = make_org(db, "Acme", owner)
    for coin_id in coin_ids:
        watchlist.add_to_watchlist(owner, db, org.id, coin_id)
    return owner, org


def stored_prices(db):
    with db.read_session() as session:
        rows = session.execute(
            select(MarketPrice.coin_id, MarketPrice.vs_currency, MarketPrice.price)
        )
        return sorted((c, v, p) for c, v, p in rows)


def test_a_fetch_stores_one_exact_price_per_watched_coin_and_currency(db, client):
    watch(db, client, "bitcoin", "shiba-inu", "tether")

    report = fetch_latest(SYSTEM, db, client, ["usd", "eur"])

    assert (report.status, report.points_written, report.coins_requested) == (
        "ok",
        6,
        3,
    )
    at = NOW // 60 * 60
    prices = stored_prices(db)
    assert (
        "shiba-inu",
        "usd",
        Decimal(repr(price_of("shiba-inu", "usd", at))),
    ) in prices
    assert ("tether", "usd", Decimal(1)) in prices


def test_a_second_identical_fetch_writes_nothing_but_is_still_recorded(db, client):
    watch(db, client, "bitcoin", "ethereum")
    fetch_latest(SYSTEM, db, client, ["usd"])

    again = fetch_latest(SYSTEM, db, client, ["usd"])

    assert (again.status, again.points_written) == ("ok", 0)
    assert len(stored_prices(db)) == 2
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(FetchRun)) == 2


def test_a_fetch_with_an_empty_watchlist_makes_no_call(db, client, fake):
    report = fetch_latest(SYSTEM, db, client, ["usd"])

    assert (report.status, report.calls_made, report.points_written) == ("ok", 0, 0)
    assert fake.calls["simple_price"] == 0


def test_three_429s_then_a_price_take_four_calls_and_honour_retry_after(
    db, client, fake, sleep
):
    watch(db, client, "bitcoin")
    fake.set_fault("rate_limit", times=3, retry_after="2", endpoint="simple_price")

    report = fetch_latest(SYSTEM, db, client, ["usd"])

    assert (report.status, report.calls_made, report.points_written) == ("ok", 4, 1)
    assert fake.calls["simple_price"] == 4
    assert sleep.long_waits() == [2.0, 2.0, 2.0]


def test_a_fetch_that_stays_rate_limited_is_recorded_as_rate_limited(db, client, fake):
    watch(db, client, "bitcoin")
    fake.set_fault("rate_limit", retry_after=None, endpoint="simple_price")

    report = fetch_latest(SYSTEM, db, client, ["usd"])

    assert (report.status, report.points_written) == ("rate_limited", 0)
    assert "rate-limiting" in (report.error or "")
    with db.read_session() as session:
        run = session.get(FetchRun, report.run_id)
        assert (run.status, run.calls_made) == ("rate_limited", 4)
        assert run.finished_at is not None
    assert stored_prices(db) == []


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("malformed", {"value": "NaN"}),
        ("malformed", {"value": "Infinity"}),
        ("malformed", {"value": "1e400"}),
        ("malformed", {"value": "-5"}),
        ("malformed", {"value": "0"}),
        ("malformed", {"value": '"abc"'}),
        ("extra_id", {}),
        ("html", {"status": 200}),
    ],
)
def test_a_hostile_answer_is_refused_whole_and_nothing_is_stored(
    db, client, fake, fault, options
):
    watch(db, client, "bitcoin", "ethereum", "solana")
    fake.set_fault(fault, endpoint="simple_price", **options)

    report = fetch_latest(SYSTEM, db, client, ["usd"])

    assert (report.status, report.points_written) == ("failed", 0)
    assert report.error
    assert stored_prices(db) == []


def test_a_coin_without_a_price_makes_the_run_partial_and_is_named(db, client):
    watch(db, client, "bitcoin", "dead-coin")

    report = fetch_latest(SYSTEM, db, client, ["usd"])

    assert (report.status, report.points_written) == ("partial", 1)
    assert report.missing == ("dead-coin",)
    assert "dead-coin" in (report.error or "")


def test_a_cloudflare_block_is_recorded_as_failed_not_as_no_price(db, client, fake):
    watch(db, client, "bitcoin")
    fake.set_fault("html", status=403)

    report = fetch_latest(SYSTEM, db, client, ["usd"])

    assert report.status == "failed"
    assert "refusing" in (report.error or "")
    assert fake.calls["simple_price"] == 1


def test_an_unreachable_coingecko_is_recorded_as_failed(db, client, fake):
    watch(db, client, "bitcoin")
    fake.stop()

    report = fetch_latest(SYSTEM, db, client, ["usd"])

    assert report.status == "failed"
    assert "cannot be reached" in (report.error or "")


def test_an_ordinary_user_cannot_start_a_fetch(db, client):
    owner, org = watch(db, client, "bitcoin")
    editor = make_user(db, "eddie")
    join(db, org.id, editor, Role.EDITOR)

    with pytest.raises(PermissionDenied):
        fetch_latest(editor, db, client, ["usd"])
    with pytest.raises(PermissionDenied):
        fetch_latest(owner, db, client, ["usd"])

    assert stored_prices(db) == []


def test_a_slow_answer_times_out_and_the_retry_gets_the_price(db, fake, sleep):
    client = client_for(fake, sleep=sleep, timeout_seconds=0.3)
    watch(db, client, "bitcoin")
    fake.set_fault("slow", times=1, delay=1.0, endpoint="simple_price")

    report = fetch_latest(SYSTEM, db, client, ["usd"])
    client.close()

    assert (report.status, report.calls_made, report.points_written) == ("ok", 2, 1)


def test_a_wrong_demo_key_is_recorded_as_failed_with_the_reason(db, fake, client):
    watch(db, client, "bitcoin")
    keyed = client_for(fake, plan="demo", api_key="CG-wrong")

    report = fetch_latest(SYSTEM, db, keyed, ["usd"])
    keyed.close()

    assert (report.status, report.calls_made) == ("failed", 1)
    assert "API key" in (report.error or "")
    assert "CG-wrong" not in (report.error or "")
    assert fake.seen[-1].headers["x-cg-demo-api-key"] == "CG-wrong"
    assert "CG-wrong" not in fake.seen[-1].path


def test_a_run_left_running_by_a_dead_process_is_closed_by_the_next_one(db, client):
    from datetime import UTC, datetime, timedelta

    watch(db, client, "bitcoin")
    with db.session() as session:
        dead = FetchRun(
            kind="latest",
            status="running",
            started_at=datetime.now(UTC) - timedelta(hours=2),
        )
        recent = FetchRun(kind="latest", status="running")
        session.add_all([dead, recent])
    dead_id, recent_id = dead.id, recent.id

    fetch_latest(SYSTEM, db, client, ["usd"])

    with db.read_session() as session:
        closed = session.get(FetchRun, dead_id)
        still = session.get(FetchRun, recent_id)
        assert (closed.status, still.status) == ("failed", "running")
        assert "Interrupted" in closed.error and closed.finished_at is not None
