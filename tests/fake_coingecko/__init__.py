"""A fake CoinGecko HTTP server for tests and local demos."""

from tests.fake_coingecko.data import COINS, price_of
from tests.fake_coingecko.server import FakeCoinGecko

__all__ = ["COINS", "FakeCoinGecko", "price_of"]
