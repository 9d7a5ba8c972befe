"""The fake's coin catalogue and its deterministic prices."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

WEEK = 7 * 86_400
YEAR = 365 * 86_400


@dataclass(frozen=True)
class FakeCoin:
    id: str
    symbol: str
    name: str
    usd: float  # the centre price in US dollars
    supply: float  # coins in circulation, for market caps


COINS: tuple[FakeCoin, ...] = (
    FakeCoin("bitcoin", "btc", "Bitcoin", 65_000.0, 19_700_000),
    FakeCoin("ethereum", "eth", "Ethereum", 3_200.0, 120_000_000),
    FakeCoin("tether", "usdt", "Tether", 1.0, 110_000_000_000),
    FakeCoin("solana", "sol", "Solana", 150.0, 450_000_000),
    FakeCoin("ripple", "xrp", "XRP", 0.55, 55_000_000_000),
    FakeCoin("dogecoin", "doge", "Dogecoin", 0.16, 145_000_000_000),
    FakeCoin("cardano", "ada", "Cardano", 0.45, 35_000_000_000),
    FakeCoin("shiba-inu", "shib", "Shiba Inu", 0.000_012, 589_000_000_000_000),
    FakeCoin("pepe", "pepe", "Pepe", 0.000_000_9, 420_000_000_000_000),
    FakeCoin("wrapped-bitcoin", "wbtc", "Wrapped Bitcoin", 64_900.0, 150_000),
    # Symbols are not unique on CoinGecko; this one shares "btc" with bitcoin.
    FakeCoin("bitcoin-bridged-fake", "btc", "Bitcoin (Bridged)", 64_800.0, 1_000),
    # Listed, but never priced: /simple/price leaves it out.
    FakeCoin("dead-coin", "dead", "Dead Coin", 0.0, 0),
)
BY_ID = {coin.id: coin for coin in COINS}
FX = {"usd": 1.0, "eur": 0.92, "gbp": 0.79, "jpy": 151.0, "btc": 1 / 65_000.0}


def _phase(coin_id: str) -> float:
    digest = hashlib.sha256(coin_id.encode()).digest()
    return digest[0] / 255 * 2 * math.pi


def price_of(coin_id: str, vs: str, at: int) -> float | int:
    """The fake's price of a coin at epoch second ``at``: same input, same price."""
    coin = BY_ID[coin_id]
    if coin.id == "tether" and vs == "usd":
        return 1  # an integer JSON number, as CoinGecko's rounding gives
    wave = 1 + 0.08 * math.sin(2 * math.pi * at / WEEK + _phase(coin_id))
    value = coin.usd * FX[vs] * wave
    return float(f"{value:.10g}")


def market_cap_of(coin_id: str, vs: str, at: int) -> float:
    coin = BY_ID[coin_id]
    return float(f"{float(price_of(coin_id, vs, at)) * coin.supply:.12g}")


def volume_of(coin_id: str, vs: str, at: int) -> float:
    return float(f"{market_cap_of(coin_id, vs, at) * 0.04:.12g}")


def change_of(coin_id: str, vs: str, at: int) -> float:
    before = float(price_of(coin_id, vs, at - 86_400))
    now = float(price_of(coin_id, vs, at))
    return round((now / before - 1) * 100, 6)


def step_for(span: int) -> int:
    """CoinGecko's automatic granularity for a range of ``span`` seconds."""
    if span <= 86_400:
        return 300
    if span <= 90 * 86_400:
        return 3_600
    return 86_400
