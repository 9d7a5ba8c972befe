"""Check CoinGecko payloads before anything is stored.

Bodies are parsed with ``parse_float=Decimal`` so prices stay exact from the
JSON text on; ``NaN`` and ``Infinity`` are refused while parsing. Each
``validate_*`` function accepts the whole batch or raises ``BadPayload``: a bad
batch is never stored in part.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crypto_dash.errors import BadPayload, ValidationError
from crypto_dash.services.prices_input import parse_price

logger = logging.getLogger(__name__)

EARLIEST = 1_230_768_000  # 2009-01-01, before any crypto price
CLOCK_SKEW = 600  # seconds a timestamp may run ahead of our clock
MAX_AMOUNT = Decimal("1e24")  # market caps and volumes above this are junk


@dataclass(frozen=True)
class Quote:
    """One validated latest price of a coin in one currency."""

    coin_id: str
    vs_currency: str
    price: Decimal
    market_cap: Decimal | None
    volume_24h: Decimal | None
    change_24h_pct: Decimal | None
    last_updated_at: int  # epoch seconds


@dataclass(frozen=True)
class ChartPoint:
    """One validated point of a coin's history."""

    observed_at: int  # epoch seconds
    price: Decimal
    market_cap: Decimal | None
    volume_24h: Decimal | None


@dataclass(frozen=True)
class CatalogueCoin:
    id: str
    symbol: str
    name: str


@dataclass(frozen=True)
class MarketCoin:
    id: str
    symbol: str
    name: str
    market_cap_rank: int | None
    market_cap: Decimal | None
    current_price: Decimal | None


def _refuse_constant(name: str) -> Any:
    logger.warning("rejected CoinGecko body: it holds the non-number %s", name)
    raise BadPayload(f"CoinGecko sent the non-number {name}.")


def loads_exact(text: str) -> Any:
    """Parse JSON keeping every fractional number as an exact Decimal."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except ValueError as exc:
        logger.warning("rejected CoinGecko body: not valid JSON (%s)", exc)
        raise BadPayload("CoinGecko sent a body that is not valid JSON.") from exc


def reject(reason: str, *details: object) -> BadPayload:
    """Log why a batch is refused and build the error that says so."""
    logger.warning("rejected CoinGecko batch: " + reason, *details)
    return BadPayload("CoinGecko sent prices we refuse to store; none were saved.")


def _number(raw: object) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        return None
    return Decimal(raw)


def exact_price(raw: object, where: str) -> Decimal:
    value = _number(raw)
    if value is None:
        raise reject("%s: price %r is not a JSON number", where, raw)
    try:
        return parse_price(value)
    except ValidationError as exc:
        raise reject("%s: price %r refused: %s", where, raw, exc.message) from None


def optional_amount(raw: object, where: str, *, signed: bool = False) -> Decimal | None:
    if raw is None:
        return None
    value = _number(raw)
    bad = value is None or not value.is_finite() or abs(value) >= MAX_AMOUNT
    if bad or (not signed and value < 0):  # type: ignore[operator]
        raise reject("%s: value %r is not a usable number", where, raw)
    return value


def check_time(seconds: object, where: str, now: float | None = None) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise reject("%s: timestamp %r is not whole seconds", where, seconds)
    limit = (now if now is not None else time.time()) + CLOCK_SKEW
    if not EARLIEST <= seconds <= limit:
        raise reject("%s: timestamp %s is out of range", where, seconds)
    return seconds


def validate_simple_price(
    payload: object,
    ids: Sequence[str],
    vs_currencies: Sequence[str],
    *,
    now: float | None = None,
) -> list[Quote]:
    """Quotes from a /simple/price answer; coins without a price are left out."""
    if not isinstance(payload, dict):
        raise reject("/simple/price answer is a %s", type(payload).__name__)
    extra = sorted(set(payload) - set(ids))
    if extra:
        raise reject("/simple/price sent ids nobody asked for: %s", extra[:10])
    quotes: list[Quote] = []
    for coin_id, fields in payload.items():
        if not isinstance(fields, dict):
            raise reject("%s: quote is a %s", coin_id, type(fields).__name__)
        quotes.extend(_coin_quotes(coin_id, fields, vs_currencies, now))
    return quotes


def _coin_quotes(
    coin_id: str,
    fields: dict[str, Any],
    vs_currencies: Sequence[str],
    now: float | None,
) -> Iterable[Quote]:
    asked = [vs for vs in vs_currencies if vs in fields]
    if not asked:
        return []
    updated = check_time(fields.get("last_updated_at"), coin_id, now)
    return [
        Quote(
            coin_id=coin_id,
            vs_currency=vs,
            price=exact_price(fields[vs], f"{coin_id}/{vs}"),
            market_cap=optional_amount(fields.get(f"{vs}_market_cap"), coin_id),
            volume_24h=optional_amount(fields.get(f"{vs}_24h_vol"), coin_id),
            change_24h_pct=optional_amount(
                fields.get(f"{vs}_24h_change"), coin_id, signed=True
            ),
            last_updated_at=updated,
        )
        for vs in asked
    ]


def _series(payload: dict[str, Any], key: str, where: str) -> list[list[Any]]:
    series = payload.get(key, [])
    if not isinstance(series, list) or not all(
        isinstance(pair, list) and len(pair) == 2 for pair in series
    ):
        raise reject("%s: %s is not a list of [time, value] pairs", where, key)
    return series


def _seconds(ms: object, where: str, start: int, end: int) -> int:
    if isinstance(ms, bool) or not isinstance(ms, int | Decimal):
        raise reject("%s: chart time %r is not a number", where, ms)
    seconds = int(ms) // 1000
    if not start - 86_400 <= seconds <= end + CLOCK_SKEW:
        raise reject("%s: chart time %s is outside %s..%s", where, seconds, start, end)
    return seconds


def validate_chart(
    payload: object, coin_id: str, start: int, end: int, *, now: float | None = None
) -> list[ChartPoint]:
    """Points from a market_chart answer, one per second, oldest first."""
    if not isinstance(payload, dict):
        raise reject("%s: chart answer is a %s", coin_id, type(payload).__name__)
    end = min(end, int(now if now is not None else time.time()))
    caps = {
        _seconds(t, coin_id, start, end): v
        for t, v in _series(payload, "market_caps", coin_id)
    }
    volumes = {
        _seconds(t, coin_id, start, end): v
        for t, v in _series(payload, "total_volumes", coin_id)
    }
    points: dict[int, ChartPoint] = {}
    for raw_time, raw_price in _series(payload, "prices", coin_id):
        at = check_time(_seconds(raw_time, coin_id, start, end), coin_id, now)
        points[at] = ChartPoint(
            observed_at=at,
            price=exact_price(raw_price, f"{coin_id}@{at}"),
            market_cap=optional_amount(caps.get(at), coin_id),
            volume_24h=optional_amount(volumes.get(at), coin_id),
        )
    return [points[at] for at in sorted(points)]


def _text(raw: object, where: str, limit: int) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > limit:
        raise reject("%s: %r is not a usable name", where, str(raw)[:40])
    return raw.strip()


def validate_coins_list(payload: object) -> list[CatalogueCoin]:
    """The coin catalogue from /coins/list, one entry per id."""
    if not isinstance(payload, list):
        raise reject("/coins/list answer is a %s", type(payload).__name__)
    coins: dict[str, CatalogueCoin] = {}
    for entry in payload:
        if not isinstance(entry, dict):
            raise reject("/coins/list holds a %s", type(entry).__name__)
        coin_id = _text(entry.get("id"), "/coins/list id", 100)
        coins[coin_id] = CatalogueCoin(
            id=coin_id,
            symbol=_text(entry.get("symbol"), coin_id, 50).lower(),
            name=_text(entry.get("name"), coin_id, 200),
        )
    return list(coins.values())


def _rank(raw: object, where: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise reject("%s: market_cap_rank %r is not a rank", where, raw)
    return raw


def validate_markets(payload: object, ids: Sequence[str] | None) -> list[MarketCoin]:
    """Names, ranks and market caps from /coins/markets."""
    if not isinstance(payload, list):
        raise reject("/coins/markets answer is a %s", type(payload).__name__)
    coins: list[MarketCoin] = []
    for entry in payload:
        if not isinstance(entry, dict):
            raise reject("/coins/markets holds a %s", type(entry).__name__)
        coin_id = _text(entry.get("id"), "/coins/markets id", 100)
        if ids is not None and coin_id not in ids:
            raise reject("/coins/markets sent an id nobody asked for: %s", coin_id)
        price = entry.get("current_price")
        coins.append(
            MarketCoin(
                id=coin_id,
                symbol=_text(entry.get("symbol"), coin_id, 50).lower(),
                name=_text(entry.get("name"), coin_id, 200),
                market_cap_rank=_rank(entry.get("market_cap_rank"), coin_id),
                market_cap=optional_amount(entry.get("market_cap"), coin_id),
                current_price=None if price is None else exact_price(price, coin_id),
            )
        )
    return coins
