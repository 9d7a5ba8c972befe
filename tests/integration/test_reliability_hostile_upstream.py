"""A hostile CoinGecko: Hypothesis feeds the client and ingestion junk bodies.

Every body goes through ``httpx.MockTransport`` into the real client, then
``fetch_latest`` or ``backfill`` writes to the real database. Whatever arrives,
nothing malformed is stored, ingestion never raises, the run is recorded as
failed, and the refusal is logged exactly once. ``CRYPTO_DASH_PROOF_SCALE``
multiplies the number of bodies tried (default 1: 40 per property and backend).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from crypto_dash.coingecko import CoinGeckoClient
from crypto_dash.db.models import FetchRun, MarketPrice
from crypto_dash.services import watchlist
from crypto_dash.services.backfill import backfill
from crypto_dash.services.ingestion import fetch_latest
from crypto_dash.services.principal import Principal
from tests.builders import make_org, make_user
from tests.fake_coingecko import FakeCoinGecko
from tests.fake_coingecko.helpers import RecordedSleep, client_for, seed_catalogue

SYSTEM = Principal.system()
SCALE = max(1, int(os.environ.get("CRYPTO_DASH_PROOF_SCALE", "1")))
WATCHED = ("bitcoin", "ethereum")
HOSTILE = settings(
    max_examples=40 * SCALE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Raw JSON tokens that are never a price we may store.
BAD_NUMBERS = st.one_of(
    st.sampled_from(
        ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "0", "0.0", "-0", "null"]
    ),
    st.sampled_from(["true", "false", "[]", "{}", '"65000"', '"abc"', '""']),
    st.decimals(max_value=0, allow_nan=False, allow_infinity=False).map(str),
    st.integers(min_value=10**18, max_value=10**400).map(str),
    st.integers(max_value=0).map(str),
    st.text(max_size=20).map(json.dumps),
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from([*WATCHED, "usd", "prices", "x"]), children)
    ),
    max_leaves=12,
)
HTML = st.sampled_from(
    [
        "<!DOCTYPE html><html><body>Error 1020</body></html>",
        "<html><head><title>Just a moment...</title></head></html>",
        "",
        "   ",
    ]
)


def simple_price_body(price_token: str) -> str:
    """A well-shaped /simple/price answer whose bitcoin price is the raw token."""
    at = int(time.time()) - 60
    return (
        f'{{"bitcoin": {{"usd": {price_token}, "last_updated_at": {at}}}, '
        f'"ethereum": {{"usd": 2500.5, "last_updated_at": {at}}}}}'
    )


def chart_body(price_token: str) -> str:
    """A /market_chart/range answer whose second price is the raw token."""
    at = (int(time.time()) - 3600) * 1000
    return f'{{"prices": [[{at - 3_600_000}, 100.5], [{at}, {price_token}]]}}'


@pytest.fixture
def watched(db) -> Iterator[None]:
    with FakeCoinGecko() as fake:
        gecko = client_for(fake)
        seed_catalogue(db, gecko)
        gecko.close()
    owner = make_user(db, "olivia")
    org = make_org(db, "Acme", owner)
    for coin_id in WATCHED:
        watchlist.add_to_watchlist(owner, db, org.id, coin_id)
    yield


def hostile_client(body: str, content_type: str, status: int = 200) -> CoinGeckoClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, content=body.encode(), headers={"content-type": content_type}
        )

    sleep = RecordedSleep()
    return CoinGeckoClient(
        base_url="http://gecko.invalid/api/v3",
        calls_per_minute=60_000,
        transport=httpx.MockTransport(answer),
        sleep=sleep,
        clock=sleep.clock,
    )


def stored(db) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(MarketPrice)) or 0


def all_stored_prices_are_sane(db) -> bool:
    with db.read_session() as session:
        rows = session.execute(select(MarketPrice.coin_id, MarketPrice.price)).all()
    return all(
        coin in WATCHED
        and isinstance(price, Decimal)
        and price.is_finite()
        and price > 0
        for coin, price in rows
    )


def last_run(db) -> FetchRun:
    with db.read_session() as session:
        run = session.scalars(select(FetchRun).order_by(FetchRun.id.desc())).first()
        session.expunge(run)
        return run


def warnings_logged(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("crypto_dash")
    ]


def fetch_with(db, caplog, body: str, content_type: str = "application/json"):
    before = stored(db)
    caplog.clear()
    client = hostile_client(body, content_type)
    try:
        with caplog.at_level(logging.INFO, logger="crypto_dash"):
            report = fetch_latest(SYSTEM, db, client, ["usd"])
    finally:
        client.close()
    return report, stored(db) - before, warnings_logged(caplog)


@given(token=BAD_NUMBERS)
@HOSTILE
def test_a_batch_with_one_bad_price_is_refused_whole_and_logged_once(
    db, watched, caplog, token
):
    report, added, warnings = fetch_with(db, caplog, simple_price_body(token))

    assert (report.status, added) == ("failed", 0), token
    assert last_run(db).status == "failed"
    assert len(warnings) == 1, warnings
    assert all_stored_prices_are_sane(db)


@given(payload=JSON)
@HOSTILE
def test_arbitrary_json_never_stores_junk_and_never_raises(
    db, watched, caplog, payload
):
    body = json.dumps(payload)  # NaN and Infinity come out as raw tokens

    report, added, warnings = fetch_with(db, caplog, body)

    assert last_run(db).status == report.status
    assert all_stored_prices_are_sane(db)
    if report.status == "failed":
        assert added == 0
        assert len(warnings) == 1, warnings
    else:  # a body that happens to be a valid answer with no prices in it
        assert (report.status, added, warnings) == ("partial", 0, [])


@given(cut=st.integers(min_value=0), token=st.sampled_from(["65000.5", "NaN"]))
@HOSTILE
def test_a_truncated_body_stores_nothing_and_is_logged_once(
    db, watched, caplog, cut, token
):
    body = simple_price_body(token)
    body = body[: cut % len(body)]

    report, added, warnings = fetch_with(db, caplog, body)

    assert (report.status, added) == ("failed", 0)
    assert len(warnings) == 1, warnings


@given(
    body=HTML,
    content_type=st.sampled_from(["text/html", "application/json", "text/plain"]),
)
@HOSTILE
def test_an_html_page_with_status_200_stores_nothing_and_is_logged_once(
    db, watched, caplog, body, content_type
):
    report, added, warnings = fetch_with(db, caplog, body, content_type)

    assert (report.status, added) == ("failed", 0)
    assert len(warnings) == 1, warnings


@given(token=BAD_NUMBERS)
@HOSTILE
def test_a_history_chunk_with_one_bad_price_fails_the_job_and_stores_nothing(
    db, watched, caplog, token
):
    before = stored(db)
    caplog.clear()
    client = hostile_client(chart_body(token), "application/json")
    since = datetime.now(UTC) - timedelta(days=3)
    try:
        with caplog.at_level(logging.INFO, logger="crypto_dash"):
            report = backfill(SYSTEM, db, client, ["bitcoin"], "usd", since)
    finally:
        client.close()

    assert (report.status, report.jobs[0].status) == ("failed", "failed")
    assert stored(db) == before
    assert len(warnings_logged(caplog)) == 1, warnings_logged(caplog)
