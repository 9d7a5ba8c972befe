"""Concurrent read-then-write sessions wait for the lock instead of failing."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from crypto_dash.db.engine import Database
from crypto_dash.db.models import PriceEntry
from crypto_dash.errors import StorageError
from crypto_dash.services import price_entries
from tests.builders import make_org, make_user

THREADS, WRITES = 8, 15


def test_eight_threads_reading_then_writing_lose_nothing(db: Database, backend):
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)
    errors: list[BaseException] = []

    def session_like_a_dashboard(n: int) -> None:
        try:
            for i in range(WRITES):
                price_entries.list_entries(alice, db, org.id)
                price_entries.create_entry(alice, db, org.id, "BTC", f"{n}.{i + 1}")
        except BaseException as exc:  # noqa: BLE001 - collected for the assert
            errors.append(exc)

    threads = [
        threading.Thread(target=session_like_a_dashboard, args=(n,))
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with db.read_session() as session:
        stored = session.scalar(sa.select(sa.func.count()).select_from(PriceEntry))
    assert stored == THREADS * WRITES


def test_sqlite_connections_use_wal_a_long_busy_timeout_and_foreign_keys(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")

    with db.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()

    assert (mode, keys) == ("wal", 1)
    assert timeout >= 5000
    db.dispose()


def test_a_full_disk_becomes_a_sentence_and_the_transaction_is_rolled_back(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with db.session() as session:
        session.execute(sa.text("CREATE TABLE t (x)"))
        session.execute(sa.text("INSERT INTO t VALUES (1)"))
    with db.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()

    @sa.event.listens_for(db.engine, "connect")
    def cap_size(dbapi_connection, record):
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    db.engine.dispose()
    with pytest.raises(StorageError, match="full"), db.session() as session:
        session.execute(sa.text("INSERT INTO t VALUES (randomblob(100000))"))

    with db.read_session() as session:
        assert session.scalar(sa.text("SELECT count(*) FROM t")) == 1
    db.dispose()
