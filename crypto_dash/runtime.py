"""The process's shared objects, built once by an entry point and handed down."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from crypto_dash.db import migrate
from crypto_dash.db.engine import Database, storage_error
from crypto_dash.services.auth import Authenticator
from crypto_dash.settings import Settings, load_settings

if TYPE_CHECKING:
    from crypto_dash.coingecko import CoinGeckoClient
    from crypto_dash.scheduler import PriceScheduler

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    authenticator: Authenticator = field(init=False)
    # Set by the server's start-up when this process runs the price scheduler.
    scheduler: PriceScheduler | None = field(default=None, init=False)

    _coingecko: CoinGeckoClient | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.authenticator = Authenticator(self.db, self.settings)

    def coingecko(self) -> CoinGeckoClient:
        """The process's one CoinGecko client, built on first use.

        One client means one pacer: the scheduler, "fetch now", backfills and
        catalogue look-ups together stay under the plan's calls per minute.
        """
        with self._lock:
            if self._coingecko is None:
                from crypto_dash.coingecko import CoinGeckoClient

                self._coingecko = CoinGeckoClient.from_settings(self.settings)
            return self._coingecko

    def close(self) -> None:
        with self._lock:
            client, self._coingecko = self._coingecko, None
        if client is not None:
            client.close()
        self.db.dispose()


def open_runtime(
    settings: Settings | None = None, *, run_migrations: bool = True
) -> Runtime:
    """Read the settings, open the database and bring its schema up to date."""
    settings = settings or load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    if run_migrations:
        try:
            migrate.upgrade(db.engine)
        except DBAPIError as exc:
            db.dispose()
            raise storage_error(exc) from exc
    return Runtime(settings=settings, db=db)
