"""The CoinGecko HTTP client: plans and keys, pacing, retries, typed errors.

One ``httpx.Client`` per ``CoinGeckoClient`` reuses connections. The API key
goes in the plan's header, never in the URL (httpx logs URLs). Every logical
call has a deadline: retries of timeouts, 5xx and 429 happen inside it, and a
call that cannot finish in time raises instead of waiting on.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from crypto_dash.coingecko import validation
from crypto_dash.coingecko.errors import error_for_response
from crypto_dash.coingecko.pacing import Pacer, backoff, wait_from_headers
from crypto_dash.coingecko.validation import (
    CatalogueCoin,
    ChartPoint,
    MarketCoin,
    Quote,
)
from crypto_dash.errors import (
    BadPayload,
    PriceFeedError,
    RateLimited,
    UpstreamUnavailable,
)
from crypto_dash.settings import Settings

logger = logging.getLogger(__name__)

PUBLIC_URL = "https://api.coingecko.com/api/v3"
PRO_URL = "https://pro-api.coingecko.com/api/v3"
KEY_HEADERS = {"demo": "x-cg-demo-api-key", "pro": "x-cg-pro-api-key"}
MAX_IDS_PER_CALL = 250
MAX_PER_PAGE = 250
MAX_BODY_BYTES = 64 * 1024 * 1024
RETRY_STATUSES = frozenset({408, 500, 502, 503, 504})
USER_AGENT = "crypto_dash/0.1"


def _epoch(value: datetime | int) -> int:
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


class CoinGeckoClient:
    """A paced, retrying client for the CoinGecko v3 endpoints crypto_dash uses.

    Parameters: ``plan`` is keyless, demo or pro; ``api_key`` goes in that
    plan's header; ``base_url`` overrides the plan's host (a proxy or the
    fake); ``calls_per_minute`` paces calls; ``timeout_seconds`` bounds each
    request; ``deadline_seconds`` bounds one call with all its retries;
    ``max_retries`` caps retries; ``max_wait_seconds`` caps one wait;
    ``transport`` replaces the network (``httpx.MockTransport`` in tests).
    """

    def __init__(
        self,
        *,
        plan: str = "keyless",
        api_key: str | None = None,
        base_url: str | None = None,
        calls_per_minute: int = 5,
        timeout_seconds: float = 10.0,
        deadline_seconds: float = 120.0,
        max_retries: int = 3,
        max_wait_seconds: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.plan = plan
        self.base_url = (base_url or (PRO_URL if plan == "pro" else PUBLIC_URL)).rstrip(
            "/"
        )
        self.deadline_seconds = deadline_seconds
        self.max_retries = max_retries
        self.max_wait_seconds = max_wait_seconds
        self.calls_made = 0
        self._count_lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._pacer = Pacer(calls_per_minute, clock=clock, sleep=sleep)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=self._headers(plan, api_key),
            timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.BaseTransport | None = None
    ) -> CoinGeckoClient:
        """Build the client the settings describe; the deadline stays inside
        the fetch interval."""
        return cls(
            plan=settings.coingecko_plan,
            api_key=settings.coingecko_api_key,
            base_url=settings.coingecko_base_url,
            calls_per_minute=settings.coingecko_calls_per_minute,
            timeout_seconds=settings.coingecko_timeout_seconds,
            deadline_seconds=min(120.0, settings.fetch_interval_seconds * 0.8),
            transport=transport,
        )

    @staticmethod
    def _headers(plan: str, api_key: str | None) -> dict[str, str]:
        headers = {"accept": "application/json", "user-agent": USER_AGENT}
        # The keyless plan sends no key: CoinGecko rejects stray keys there.
        if plan in KEY_HEADERS and api_key:
            headers[KEY_HEADERS[plan]] = api_key
        return headers

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CoinGeckoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- endpoints -----------------------------------------------------------

    def ping(self) -> str:
        """Check that CoinGecko answers; return its greeting."""
        payload = self._get("/ping")
        if not isinstance(payload, dict) or "gecko_says" not in payload:
            raise BadPayload("CoinGecko's /ping answer is not the usual greeting.")
        return str(payload["gecko_says"])

    def simple_price(
        self, ids: Sequence[str], vs_currencies: Sequence[str]
    ) -> list[Quote]:
        """Validated latest quotes for ``ids`` in each of ``vs_currencies``.

        Asks for at most ``MAX_IDS_PER_CALL`` ids per call; a coin CoinGecko
        has no price for is simply missing from the result.
        """
        quotes: list[Quote] = []
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), MAX_IDS_PER_CALL):
            chunk = unique[start : start + MAX_IDS_PER_CALL]
            params = {
                "ids": ",".join(chunk),
                "vs_currencies": ",".join(vs_currencies),
                "precision": "full",
                "include_market_cap": "true",
                "include_24hr_vol": "true",
                "include_24hr_change": "true",
                "include_last_updated_at": "true",
            }
            payload = self._get("/simple/price", params)
            quotes.extend(
                validation.validate_simple_price(payload, chunk, vs_currencies)
            )
        return quotes

    def coins_list(self) -> list[CatalogueCoin]:
        """Every coin CoinGecko lists: id, symbol and name."""
        return validation.validate_coins_list(self._get("/coins/list"))

    def coins_markets(
        self,
        vs_currency: str,
        ids: Sequence[str] | None = None,
        page: int = 1,
        per_page: int = 100,
    ) -> list[MarketCoin]:
        """One page of coins by market cap, with names, ranks and caps."""
        params: dict[str, str] = {
            "vs_currency": vs_currency,
            "order": "market_cap_desc",
            "page": str(max(1, page)),
            "per_page": str(min(MAX_PER_PAGE, max(1, per_page))),
            "precision": "full",
        }
        if ids:
            params["ids"] = ",".join(ids)
        payload = self._get("/coins/markets", params)
        return validation.validate_markets(payload, list(ids) if ids else None)

    def market_chart_range(
        self,
        coin_id: str,
        vs_currency: str,
        start: datetime | int,
        end: datetime | int,
    ) -> list[ChartPoint]:
        """Validated history of one coin between ``start`` and ``end``."""
        start_s, end_s = _epoch(start), _epoch(end)
        params = {
            "vs_currency": vs_currency,
            "from": str(start_s),
            "to": str(end_s),
            "precision": "full",
        }
        path = f"/coins/{quote(coin_id, safe='')}/market_chart/range"
        payload = self._get(path, params, coin_id=coin_id)
        return validation.validate_chart(payload, coin_id, start_s, end_s)

    # -- transport -----------------------------------------------------------

    def _get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        coin_id: str | None = None,
    ) -> Any:
        deadline = self._clock() + self.deadline_seconds
        attempt = 0
        while True:
            self._pacer.acquire()
            try:
                return self._attempt(path, params, coin_id)
            except (RateLimited, UpstreamUnavailable) as exc:
                wait = self._retry_wait(exc, attempt, deadline)
                if wait is None:
                    raise
                logger.info(
                    "coingecko %s failed (%s); retry %d in %.1fs",
                    path,
                    exc.__class__.__name__,
                    attempt + 1,
                    wait,
                )
                self._sleep(wait)
                attempt += 1

    def _retry_wait(
        self, exc: PriceFeedError, attempt: int, deadline: float
    ) -> float | None:
        if attempt >= self.max_retries:
            return None
        if exc.status is not None and exc.status not in RETRY_STATUSES | {429}:
            return None
        asked = exc.retry_after if isinstance(exc, RateLimited) else None
        if asked is not None and asked > self.max_wait_seconds:
            return None
        wait = asked if asked is not None else backoff(attempt, rng=self._rng)
        if self._clock() + wait >= deadline:
            return None
        if isinstance(exc, RateLimited):
            self._pacer.defer(wait)
        return wait

    def _attempt(
        self, path: str, params: Mapping[str, str] | None, coin_id: str | None
    ) -> Any:
        with self._count_lock:
            self.calls_made += 1
        started = time.monotonic()
        try:
            request = self._http.build_request("GET", path, params=params)
            response = self._http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            logger.warning("coingecko %s timed out: %s", path, exc.__class__.__name__)
            raise UpstreamUnavailable("CoinGecko did not answer in time.") from exc
        except httpx.HTTPError as exc:
            logger.warning("coingecko %s unreachable: %s", path, exc)
            raise UpstreamUnavailable("CoinGecko cannot be reached.") from exc
        try:
            text = self._read_text(response, path)
        finally:
            response.close()
        logger.info(
            "coingecko GET %s -> %s in %.2fs",
            path,
            response.status_code,
            time.monotonic() - started,
        )
        return self._decode(response, text, coin_id)

    @staticmethod
    def _read_text(response: httpx.Response, path: str) -> str:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise BadPayload("CoinGecko sent a body far larger than expected.")
                chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise UpstreamUnavailable("CoinGecko did not answer in time.") from exc
        except httpx.HTTPError as exc:
            logger.warning("coingecko %s broke off: %s", path, exc)
            raise UpstreamUnavailable("CoinGecko broke off its answer.") from exc
        return b"".join(chunks).decode(response.encoding or "utf-8", errors="replace")

    @staticmethod
    def _decode(response: httpx.Response, text: str, coin_id: str | None) -> Any:
        content_type = response.headers.get("content-type", "")
        status = response.status_code
        if status != 200 or "json" not in content_type:
            raise error_for_response(
                status,
                text,
                content_type,
                coin_id=coin_id,
                retry_after=wait_from_headers(response.headers),
            )
        return validation.loads_exact(text)
