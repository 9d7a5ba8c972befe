"""The real price job: ``fetch_latest`` with one CoinGecko client per scheduler."""

from __future__ import annotations

import logging
import threading
from typing import Any

from crypto_dash.runtime import Runtime
from crypto_dash.services.principal import Principal

logger = logging.getLogger(__name__)


class LatestPricesJob:
    """Fetch the latest prices of every watched coin; the client is built lazily."""

    def __init__(self, runtime: Runtime, *, worker: str | None = None) -> None:
        self.runtime = runtime
        self.worker = worker
        self._client: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> object:
        # Imported here: ingestion and the client are heavy, and nothing may be
        # built when this module is imported.
        from crypto_dash.services import ingestion

        settings = self.runtime.settings
        return ingestion.fetch_latest(
            Principal.system(),
            self.runtime.db,
            self._get_client(),
            settings.vs_currencies,
            worker=self.worker,
        )

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                from crypto_dash.coingecko import CoinGeckoClient

                self._client = CoinGeckoClient.from_settings(self.runtime.settings)
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def default_job(runtime: Runtime, *, worker: str | None = None) -> LatestPricesJob:
    """The job the server and the worker schedule: the real CoinGecko fetch."""
    return LatestPricesJob(runtime, worker=worker)
