"""The real price job: ``fetch_latest`` through the runtime's CoinGecko client."""

from __future__ import annotations

import logging

from crypto_dash.runtime import Runtime
from crypto_dash.services.principal import Principal

logger = logging.getLogger(__name__)


class LatestPricesJob:
    """Fetch the latest prices of every watched coin."""

    def __init__(self, runtime: Runtime, *, worker: str | None = None) -> None:
        self.runtime = runtime
        self.worker = worker

    def __call__(self) -> object:
        # Imported here: ingestion and the client are heavy, and nothing may be
        # built when this module is imported.
        from crypto_dash.services import ingestion

        settings = self.runtime.settings
        return ingestion.fetch_latest(
            Principal.system(),
            self.runtime.db,
            self.runtime.coingecko(),
            settings.vs_currencies,
            worker=self.worker,
        )

    def close(self) -> None:
        """Nothing to release: the client belongs to the runtime."""


def default_job(runtime: Runtime, *, worker: str | None = None) -> LatestPricesJob:
    """The job the server and the worker schedule: the real CoinGecko fetch."""
    return LatestPricesJob(runtime, worker=worker)
