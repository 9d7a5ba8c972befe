"""History backfills against the fake CoinGecko: chunked, resumable, idempotent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crypto_dash.db.models import BackfillJob, MarketPrice
from crypto_dash.errors import PermissionDenied, PlanRestricted, ValidationError
from crypto_dash.services import coins
from crypto_dash.services.backfill import CHUNK_SECONDS, backfill
from crypto_dash.services.principal import Principal
from tests.builders import make_user
from tests.fake_coingecko import FakeCoinGecko
from tests.fake_coingecko.helpers import client_for, seed_catalogue

SYSTEM = Principal.system()
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
SINCE = NOW - timedelta(days=200)


@pytest.fixture
def fake() -> Iterator[FakeCoinGecko]:
    with FakeCoinGecko(now=NOW.timestamp()) as server:
        yield server


@pytest.fixture
def client(fake, db):
    gecko = client_for(fake)
    seed_catalogue(db, gecko)
    yield gecko
    gecko.close()


def count_points(db, coin_id="bitcoin"):
    with db.read_session() as session:
        return session.scalar(
            select(func.count()).where(MarketPrice.coin_id == coin_id)
        )


def test_a_backfill_stores_the_history_in_chunks_and_a_rerun_writes_nothing(
    db, client, fake
):
    first = backfill(SYSTEM, db, client, ["bitcoin"], "usd", SINCE, until=NOW)

    again = backfill(SYSTEM, db, client, ["bitcoin"], "usd", SINCE, until=NOW)

    chunks = -(-200 * 86_400 // CHUNK_SECONDS)
    assert (first.status, first.calls_made) == ("ok", chunks)
    assert first.points_written == count_points(db) == 200 * 24 + 1
    assert (again.status, again.points_written) == ("ok", 0)


def test_an_interrupted_backfill_resumes_from_its_cursor(db, client, fake):
    def rate_limit_after_first_chunk(progress):
        if progress.points_written and not fake.calls.get("switched"):
            fake.calls["switched"] = 1
            fake.set_fault(
                "rate_limit", retry_after=None, endpoint="market_chart_range"
            )

    broken = backfill(
        SYSTEM,
        db,
        client,
        ["bitcoin"],
        "usd",
        SINCE,
        until=NOW,
        progress=rate_limit_after_first_chunk,
    )
    fake.clear_faults()
    calls_before = fake.calls["market_chart_range"]
    resumed = backfill(SYSTEM, db, client, ["bitcoin"], "usd", SINCE, until=NOW)

    assert broken.status == "rate_limited"
    assert broken.jobs[0].status == "failed"
    assert resumed.status == "ok"
    assert resumed.jobs[0].id == broken.jobs[0].id
    assert fake.calls["market_chart_range"] - calls_before == 2  # chunks 2 and 3
    assert count_points(db) == 200 * 24 + 1


def test_progress_is_reported_until_the_whole_request_is_done(db, client):
    seen = []

    backfill(
        SYSTEM,
        db,
        client,
        ["bitcoin", "ethereum"],
        "usd",
        SINCE,
        until=NOW,
        progress=seen.append,
    )

    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert {p.coin_id for p in seen} == {"bitcoin", "ethereum"}


def test_asking_for_more_than_365_days_on_a_free_plan_says_so(db, client, fake):
    since = datetime.now(UTC) - timedelta(days=400)

    with pytest.raises(PlanRestricted, match="365 days"):
        backfill(SYSTEM, db, client, ["bitcoin"], "usd", since)

    assert fake.calls["market_chart_range"] == 0


def test_coingecko_s_own_365_day_refusal_fails_the_job_and_stores_nothing(
    db, client, fake
):
    fake.set_fault("history_limit", endpoint="market_chart_range")

    report = backfill(SYSTEM, db, client, ["bitcoin"], "usd", SINCE, until=NOW)

    assert report.status == "failed"
    assert "365 days" in (report.error or "")
    assert count_points(db) == 0


def test_a_coin_coingecko_does_not_know_fails_alone(db, client):
    with db.session() as session:
        coins.store_catalogue(
            session, [coins.CatalogueCoin("gone-coin", "gone", "Gone Coin")]
        )

    report = backfill(
        SYSTEM, db, client, ["gone-coin", "bitcoin"], "usd", SINCE, until=NOW
    )

    statuses = {job.coin_id: job.status for job in report.jobs}
    assert statuses == {"gone-coin": "failed", "bitcoin": "done"}
    assert report.status == "partial"
    assert "gone-coin" in (report.error or "")


def test_a_coin_missing_from_the_catalogue_is_refused_before_any_call(db, client, fake):
    with pytest.raises(ValidationError, match="not-a-coin"):
        backfill(SYSTEM, db, client, ["not-a-coin"], "usd", SINCE, until=NOW)

    assert fake.calls["market_chart_range"] == 0


def test_only_an_administrator_can_backfill(db, client):
    user = make_user(db, "ursula")

    with pytest.raises(PermissionDenied):
        backfill(user, db, client, ["bitcoin"], "usd", SINCE, until=NOW)

    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(BackfillJob)) == 0
