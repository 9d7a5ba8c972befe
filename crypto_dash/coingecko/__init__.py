"""CoinGecko: the HTTP client, its pacing, error parsing and payload checks."""

from crypto_dash.coingecko.client import MAX_IDS_PER_CALL, CoinGeckoClient
from crypto_dash.coingecko.validation import (
    CatalogueCoin,
    ChartPoint,
    MarketCoin,
    Quote,
)

__all__ = [
    "MAX_IDS_PER_CALL",
    "CatalogueCoin",
    "ChartPoint",
    "CoinGeckoClient",
    "MarketCoin",
    "Quote",
]
