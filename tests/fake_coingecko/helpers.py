"""Builders for tests that talk to the fake: a client wired to it, seeded coins."""

from __future__ import annotations

from crypto_dash.coingecko import CoinGeckoClient
from crypto_dash.db.engine import Database
from crypto_dash.services import coins
from crypto_dash.services.principal import Principal
from tests.fake_coingecko.server import FakeCoinGecko


class RecordedSleep:
    """A sleep that only moves a virtual clock and remembers each wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 0.0

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now

    def long_waits(self, at_least: float = 0.5) -> list[float]:
        """The waits for retries, leaving out the millisecond pacing gaps."""
        return [wait for wait in self.waits if wait >= at_least]


def client_for(
    fake: FakeCoinGecko, *, sleep: RecordedSleep | None = None, **options: object
) -> CoinGeckoClient:
    """A client pointed at the fake that paces fast and never really sleeps."""
    sleep = sleep or RecordedSleep()
    settings: dict[str, object] = {
        "base_url": fake.base_url,
        "calls_per_minute": 60_000,
        "timeout_seconds": 2.0,
        "sleep": sleep,
        "clock": sleep.clock,
    }
    settings.update(options)
    return CoinGeckoClient(**settings)  # type: ignore[arg-type]


def seed_catalogue(db: Database, client: CoinGeckoClient) -> None:
    coins.refresh_catalogue(Principal.system(), db, client)
