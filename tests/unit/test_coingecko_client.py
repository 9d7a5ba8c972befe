"""The CoinGecko client at the HTTP edge, through httpx.MockTransport."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from crypto_dash.coingecko import CoinGeckoClient
from crypto_dash.errors import (
    BadApiKey,
    BadPayload,
    PlanRestricted,
    RateLimited,
    UnknownCoin,
    UpstreamUnavailable,
)
from crypto_dash.settings import Settings
from tests.fake_coingecko.helpers import RecordedSleep

NOW = 1_760_000_000
PRICE_BODY = f'{{"bitcoin":{{"usd":67187.3358936566,"last_updated_at":{NOW}}}}}'


class Upstream:
    """Canned answers, one per request, and a record of each request."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def json_answer(status: int, body: object, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def ok_prices() -> httpx.Response:
    return httpx.Response(
        200, text=PRICE_BODY, headers={"content-type": "application/json"}
    )


def client_with(upstream: Upstream, sleep: RecordedSleep | None = None, **options):
    sleep = sleep or RecordedSleep()
    return CoinGeckoClient(
        transport=httpx.MockTransport(upstream),
        calls_per_minute=60_000,
        sleep=sleep,
        clock=sleep.clock,
        **options,
    )


@pytest.mark.parametrize(
    ("plan", "header"), [("demo", "x-cg-demo-api-key"), ("pro", "x-cg-pro-api-key")]
)
def test_the_key_travels_in_the_plan_s_header_and_never_in_the_url(plan, header):
    upstream = Upstream(ok_prices())
    settings = Settings(coingecko_plan=plan, coingecko_api_key="CG-secret")
    client = CoinGeckoClient.from_settings(
        settings, transport=httpx.MockTransport(upstream)
    )

    client.simple_price(["bitcoin"], ["usd"])

    sent = upstream.requests[0]
    assert sent.headers[header] == "CG-secret"
    assert "CG-secret" not in str(sent.url)
    expected_host = "pro-api.coingecko.com" if plan == "pro" else "api.coingecko.com"
    assert sent.url.host == expected_host


def test_the_keyless_plan_sends_no_key_at_all():
    upstream = Upstream(ok_prices())
    client = client_with(upstream, api_key="CG-stray")

    client.simple_price(["bitcoin"], ["usd"])

    assert not any(k.startswith("x-cg-") for k in upstream.requests[0].headers)


def test_prices_come_back_exact_from_the_json_text():
    upstream = Upstream(
        httpx.Response(
            200,
            text='{"shiba-inu":{"usd":1.2e-05,"eur":0.000000000000261154000008461,'
            f'"last_updated_at":{NOW}}}}}',
            headers={"content-type": "application/json"},
        )
    )

    quotes = client_with(upstream).simple_price(["shiba-inu"], ["usd", "eur"])

    assert [q.price for q in quotes] == [
        Decimal("0.000012"),
        Decimal("0.000000000000261154000008461"),
    ]


def test_more_than_250_ids_are_asked_for_in_chunks():
    upstream = Upstream(json_answer(200, {}))
    ids = [f"coin-{n}" for n in range(300)]

    client_with(upstream).simple_price(ids, ["usd"])

    asked = [r.url.params["ids"].split(",") for r in upstream.requests]
    assert [len(chunk) for chunk in asked] == [250, 50]


def test_a_429_waits_for_retry_after_and_then_succeeds():
    sleep = RecordedSleep()
    limited = json_answer(429, {"status": {"error_code": 429}}, **{"retry-after": "3"})
    upstream = Upstream(limited, limited, ok_prices())

    quotes = client_with(upstream, sleep).simple_price(["bitcoin"], ["usd"])

    assert len(quotes) == 1
    assert len(upstream.requests) == 3
    assert sleep.long_waits() == [3.0, 3.0]


def test_a_retry_after_beyond_the_cap_fails_at_once_and_says_how_long():
    sleep = RecordedSleep()
    upstream = Upstream(json_answer(429, {}, **{"retry-after": "119"}))

    with pytest.raises(RateLimited) as caught:
        client_with(upstream, sleep).simple_price(["bitcoin"], ["usd"])

    assert caught.value.retry_after == 119
    assert len(upstream.requests) == 1
    assert sleep.long_waits() == []


def test_without_retry_after_the_client_backs_off_and_gives_up_in_time():
    sleep = RecordedSleep()
    upstream = Upstream(json_answer(429, {}))

    with pytest.raises(RateLimited):
        client_with(upstream, sleep, max_retries=3).simple_price(["bitcoin"], ["usd"])

    waits = sleep.long_waits()
    assert len(upstream.requests) == 4
    assert len(waits) == 3
    assert all(0.5 <= w <= 30 for w in waits)


def test_retries_stop_at_the_deadline():
    sleep = RecordedSleep()
    upstream = Upstream(json_answer(429, {}, **{"retry-after": "40"}))

    with pytest.raises(RateLimited):
        client_with(upstream, sleep, deadline_seconds=100).simple_price(
            ["bitcoin"], ["usd"]
        )

    assert len(upstream.requests) == 3
    assert sum(sleep.long_waits()) < 100


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(status):
    upstream = Upstream(httpx.Response(status, text="oops"), ok_prices())

    quotes = client_with(upstream).simple_price(["bitcoin"], ["usd"])

    assert len(quotes) == 1
    assert len(upstream.requests) == 2


def test_timeouts_are_retried_then_reported_as_upstream_unavailable():
    calls = []

    def hang(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("slow", request=request)

    sleep = RecordedSleep()
    client = CoinGeckoClient(
        transport=httpx.MockTransport(hang), sleep=sleep, clock=sleep.clock
    )

    with pytest.raises(UpstreamUnavailable, match="in time"):
        client.ping()

    assert len(calls) == 4


BODIES = [
    (
        401,
        {"status": {"error_code": 10002, "error_message": "API Key Missing"}},
        BadApiKey,
    ),
    (
        400,
        {"error_code": 10010, "status": {"error_message": "change your root URL"}},
        BadApiKey,
    ),
    (
        400,
        {"error_code": 10011, "status": {"error_message": "change your root URL"}},
        BadApiKey,
    ),
    (
        401,
        {"error": {"status": {"error_code": 10012, "error_message": "past 365 days"}}},
        PlanRestricted,
    ),
    (
        403,
        {"status": {"error_code": 10005, "error_message": "limited Pro API"}},
        PlanRestricted,
    ),
    (404, {"error": "coin not found"}, UnknownCoin),
]


@pytest.mark.parametrize(("status", "body", "error"), BODIES)
def test_every_error_body_shape_becomes_its_typed_error_without_a_retry(
    status, body, error
):
    upstream = Upstream(json_answer(status, body))

    with pytest.raises(error):
        client_with(upstream).market_chart_range("bitcoin", "usd", NOW - 3600, NOW)

    assert len(upstream.requests) == 1


def test_a_plain_text_1015_is_a_rate_limit_not_a_json_crash():
    upstream = Upstream(
        httpx.Response(
            429, text="error code: 1015", headers={"content-type": "text/plain"}
        )
    )

    with pytest.raises(RateLimited):
        client_with(upstream, max_retries=0).ping()


def test_an_html_page_with_status_200_is_a_bad_payload():
    upstream = Upstream(
        httpx.Response(
            200,
            text="<!DOCTYPE html><html>Throttled</html>",
            headers={"content-type": "text/html"},
        )
    )

    with pytest.raises(BadPayload):
        client_with(upstream).ping()

    assert len(upstream.requests) == 1


def test_the_key_never_appears_in_an_error_message():
    upstream = Upstream(json_answer(401, {"status": {"error_code": 10002}}))
    client = client_with(upstream, plan="demo", api_key="CG-topsecret")

    with pytest.raises(BadApiKey) as caught:
        client.ping()

    assert "CG-topsecret" not in caught.value.message
