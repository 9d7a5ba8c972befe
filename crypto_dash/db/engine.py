"""Engines and short-lived sessions for SQLite and PostgreSQL.

On SQLite every write transaction begins IMMEDIATE, so that a transaction that
reads and then writes waits for the lock (up to busy_timeout) instead of
failing at once with "database is locked". Reads go through a second engine
whose transactions begin DEFERRED, so in WAL mode they never queue behind a
writer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crypto_dash.errors import StorageError

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 15_000


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: str, begin: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Take transaction control away from the sqlite3 module, so that the
        # BEGIN below is the one that runs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """Build an engine for ``url`` with the pragmas or pool checks it needs."""
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        return _sqlite_engine(url, "BEGIN" if read_only else "BEGIN IMMEDIATE")
    return create_engine(url, pool_pre_ping=True, pool_recycle=1800)


_DISK_FULL = ("disk is full", "no space left", "disk full")


def storage_error(exc: DBAPIError) -> StorageError:
    """Turn a driver error into the sentence a user sees; the log keeps the detail."""
    text = str(exc.orig).lower()
    if any(marker in text for marker in _DISK_FULL):
        message = "The disk holding the database is full; nothing was saved."
    elif "locked" in text or "timeout" in text:
        message = "The database is busy right now; nothing was saved. Try again."
    else:
        message = "The database cannot be reached right now; nothing was saved."
    logger.error("database error: %s", exc.orig)
    return StorageError(message)


class Database:
    """The app's database: one write engine, one read engine, sessions per call."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        sqlite = url.startswith("sqlite")
        self.read_engine = make_engine(url, read_only=True) if sqlite else self.engine
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a write transaction; commit on success, roll back on error."""
        with self._open(self._writer) as session:
            yield session
            session.commit()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """Open a read-only transaction that never waits for writers."""
        with self._open(self._reader) as session:
            yield session
            session.rollback()

    @contextmanager
    def _open(self, factory: sessionmaker[Session]) -> Iterator[Session]:
        session = factory()
        try:
            yield session
        except OperationalError as exc:
            session.rollback()
            raise storage_error(exc) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
