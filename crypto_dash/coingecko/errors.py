"""Turn a failed CoinGecko answer into one typed error from crypto_dash.errors.

CoinGecko's error bodies come in several shapes (``status.error_code``, a
top-level ``error_code`` with ``status.error_message``, ``error.status.*``, and
a flat ``{"error": "..."}``), and its CDN answers with HTML pages or plain text
such as ``error code: 1015``. Every one of them becomes a ``PriceFeedError``
child here; nothing calls ``json()`` on a body that is not JSON.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from crypto_dash.errors import (
    BadApiKey,
    BadPayload,
    PlanRestricted,
    PriceFeedError,
    RateLimited,
    UnknownCoin,
    UpstreamUnavailable,
)

logger = logging.getLogger(__name__)

MISSING_KEY = 10002
PLAN_RESTRICTED = 10005
PRO_KEY_ON_PUBLIC_HOST = 10010
DEMO_KEY_ON_PRO_HOST = 10011
OVER_PLAN_LIMIT = 10012
KEY_CODES = (MISSING_KEY, PRO_KEY_ON_PUBLIC_HOST, DEMO_KEY_ON_PRO_HOST)
SNIPPET = 200


@dataclass(frozen=True)
class ErrorBody:
    """What an error body says: CoinGecko's code and message, when it has them."""

    code: int | None
    message: str
    is_json: bool


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _from_status(status: Any) -> tuple[int | None, str]:
    if not isinstance(status, dict):
        return None, ""
    return _as_int(status.get("error_code")), str(status.get("error_message") or "")


def read_error_body(text: str, content_type: str) -> ErrorBody:
    """Pick the code and message out of any known body shape, JSON or not."""
    looks_json = "json" in content_type or text.lstrip().startswith(("{", "["))
    data: Any = None
    if looks_json:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
    if not isinstance(data, dict):
        return ErrorBody(None, " ".join(text.split())[:SNIPPET], False)
    code, message = _from_status(data.get("status"))
    nested = data.get("error")
    if isinstance(nested, dict):
        nested_code, nested_message = _from_status(nested.get("status"))
        code, message = code or nested_code, message or nested_message
    elif isinstance(nested, str):
        message = message or nested
    code = code or _as_int(data.get("error_code"))
    return ErrorBody(code, message[:SNIPPET], True)


def error_for_response(
    status: int,
    text: str,
    content_type: str,
    *,
    coin_id: str | None = None,
    retry_after: float | None = None,
) -> PriceFeedError:
    """Build the error a failed (or non-JSON) answer stands for."""
    body = read_error_body(text, content_type)
    logger.warning(
        "coingecko answered %s (code %s): %s", status, body.code, body.message
    )
    throttled = not body.is_json and "1015" in body.message
    if status == 429 or body.code == 429 or throttled:
        return RateLimited(
            "CoinGecko is rate-limiting us; prices will resume after a pause.",
            status=status,
            retry_after=retry_after,
        )
    if body.code in KEY_CODES:
        return BadApiKey(_key_message(body.code), status=status)
    if body.code in (PLAN_RESTRICTED, OVER_PLAN_LIMIT):
        return PlanRestricted(_plan_message(body.message), status=status)
    if (not body.is_json and status == 403) or "1020" in body.message:
        return UpstreamUnavailable(
            "CoinGecko's network is refusing this machine for now (HTTP "
            f"{status}); try again later.",
            status=status,
        )
    return _by_status(status, body, coin_id)


def _by_status(status: int, body: ErrorBody, coin_id: str | None) -> PriceFeedError:
    if status == 404 and coin_id is not None:
        return UnknownCoin(
            f"CoinGecko knows no coin with the id {coin_id!r}.", coin_id=coin_id
        )
    if status in (401, 403):
        return BadApiKey(_key_message(None), status=status)
    if status == 408 or status >= 500:
        return UpstreamUnavailable(
            f"CoinGecko is not answering properly right now (HTTP {status}).",
            status=status,
        )
    if status == 400 and "vs_currency" in body.message:
        return PriceFeedError(
            "CoinGecko does not quote prices in that currency.", status=status
        )
    if 200 <= status < 300:
        return BadPayload(
            "CoinGecko answered with something other than JSON data.", status=status
        )
    return PriceFeedError(
        f"CoinGecko refused the request (HTTP {status}).", status=status
    )


def _key_message(code: int | None) -> str:
    if code == PRO_KEY_ON_PUBLIC_HOST:
        return (
            "The CoinGecko key is a Pro key but the plan is set to keyless or demo; "
            "set CRYPTO_DASH_COINGECKO_PLAN=pro."
        )
    if code == DEMO_KEY_ON_PRO_HOST:
        return (
            "The CoinGecko key is a demo key but the plan is set to pro; "
            "set CRYPTO_DASH_COINGECKO_PLAN=demo."
        )
    return "CoinGecko refused the API key: it is missing, wrong or expired."


def _plan_message(upstream: str) -> str:
    if "365" in upstream or "time range" in upstream:
        return (
            "The CoinGecko plan only allows history from the past 365 days; "
            "ask for less or use a paid plan."
        )
    return "The CoinGecko plan does not allow this request."
