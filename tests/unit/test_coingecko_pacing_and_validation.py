"""Pacing, waits asked for by CoinGecko, and the checks on its payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crypto_dash.coingecko.pacing import Pacer, backoff, wait_from_headers
from crypto_dash.coingecko.validation import (
    loads_exact,
    validate_chart,
    validate_simple_price,
)
from crypto_dash.errors import BadPayload
from tests.fake_coingecko.helpers import RecordedSleep

NOW = datetime(2025, 7, 25, 14, 53, 0, tzinfo=UTC)
T = 1_760_000_000


def test_the_pacer_spaces_calls_at_the_plan_s_rate():
    sleep = RecordedSleep()
    pacer = Pacer(30, clock=sleep.clock, sleep=sleep)

    for _ in range(3):
        pacer.acquire()

    assert sleep.waits == [2.0, 2.0]


def test_after_a_429_the_pacer_keeps_everyone_off_for_the_asked_time():
    sleep = RecordedSleep()
    pacer = Pacer(6000, clock=sleep.clock, sleep=sleep)
    pacer.acquire()

    pacer.defer(5)
    pacer.acquire()

    assert sleep.waits == [5.0]


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "119"}, 119.0),
        ({"retry-after": "Fri, 25 Jul 2025 14:53:30 GMT"}, 30.0),
        ({"x-ratelimit-reset": "2025-07-25 14:54:00 +0000"}, 60.0),
        ({"x-ratelimit-reset": str(int(NOW.timestamp()) + 10)}, 10.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_the_wait_coingecko_asks_for_is_read_in_every_form(headers, seconds):
    assert wait_from_headers(headers, NOW) == seconds


def test_backoff_grows_with_jitter_and_stays_under_its_cap():
    waits = [backoff(n, cap=8.0) for n in range(10)]

    assert 0.5 <= waits[0] <= 1.0
    assert all(w <= 8.0 for w in waits)
    assert waits[-1] >= 4.0


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_constants_are_refused_while_parsing(token):
    with pytest.raises(BadPayload):
        loads_exact('{"bitcoin":{"usd":TOKEN}}'.replace("TOKEN", token))


@pytest.mark.parametrize(
    "fields",
    [
        {"usd": "65000", "last_updated_at": T},
        {"usd": True, "last_updated_at": T},
        {"usd": Decimal("-5"), "last_updated_at": T},
        {"usd": Decimal("1E+400"), "last_updated_at": T},
        {"usd": 65000, "last_updated_at": T + 86_400 * 30},
        {"usd": 65000, "last_updated_at": 1000},
        {"usd": 65000},
        {"usd": 65000, "usd_market_cap": Decimal("-1"), "last_updated_at": T},
    ],
)
def test_a_quote_that_breaks_a_rule_rejects_the_whole_batch(fields):
    payload = {"ethereum": {"usd": 3000, "last_updated_at": T}, "bitcoin": fields}

    with pytest.raises(BadPayload):
        validate_simple_price(payload, ["bitcoin", "ethereum"], ["usd"], now=T)


def test_an_id_nobody_asked_for_rejects_the_whole_batch():
    payload = {"bitcoin": {"usd": 1, "last_updated_at": T}, "scam": {"usd": 1}}

    with pytest.raises(BadPayload):
        validate_simple_price(payload, ["bitcoin"], ["usd"], now=T)


def test_a_currency_without_a_price_is_left_out_not_refused():
    payload = {"bitcoin": {}, "ethereum": {"usd": 3000, "last_updated_at": T}}

    quotes = validate_simple_price(payload, ["bitcoin", "ethereum"], ["usd"], now=T)

    assert [q.coin_id for q in quotes] == ["ethereum"]


def test_chart_points_turn_milliseconds_into_seconds_and_keep_exact_values():
    payload = loads_exact(
        f'{{"prices":[[{T}137,645.14],[{T + 3600}000,9.352e-05]],'
        f'"market_caps":[[{T}137,1000]],"total_volumes":[]}}'
    )

    points = validate_chart(payload, "bitcoin", T, T + 3600, now=T + 7200)

    assert [(p.observed_at, p.price) for p in points] == [
        (T, Decimal("645.14")),
        (T + 3600, Decimal("0.00009352")),
    ]
    assert points[0].market_cap == 1000


def test_chart_points_far_outside_the_asked_range_are_refused():
    payload = {"prices": [[(T - 10 * 86_400) * 1000, 1]]}

    with pytest.raises(BadPayload):
        validate_chart(payload, "bitcoin", T, T + 3600, now=T + 7200)
