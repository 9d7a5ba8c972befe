"""Shared fixtures: a migrated database per test, on SQLite and on PostgreSQL.

The ``db`` fixture runs each test once per backend. PostgreSQL comes from
``CRYPTO_DASH_TEST_POSTGRES_URL`` (default: the local server's ``test``
database). When it cannot be reached the PostgreSQL half is skipped with the
reason, unless ``CRYPTO_DASH_TEST_REQUIRE_POSTGRES=1`` (set by ``.ci/run``),
which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from crypto_dash.db import migrate
from crypto_dash.db.engine import Database
from crypto_dash.db.models import Base

DEFAULT_PG = "postgresql+psycopg://postgres@/test?host=/var/run/postgresql"
PG_URL = os.environ.get("CRYPTO_DASH_TEST_POSTGRES_URL", DEFAULT_PG)
REQUIRE_PG = os.environ.get("CRYPTO_DASH_TEST_REQUIRE_POSTGRES") == "1"
BACKENDS = ("sqlite", "postgresql")

_pg_problem: str | None = None
_pg_checked = False


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    global _pg_checked, _pg_problem
    if not _pg_checked:
        _pg_checked = True
        try:
            engine = sa.create_engine(PG_URL)
            with engine.connect() as connection:
                connection.execute(sa.text("select 1"))
            engine.dispose()
        except Exception as exc:  # noqa: BLE001 - any failure means "not here"
            _pg_problem = (
                f"PostgreSQL at {PG_URL} is unreachable: {exc.__class__.__name__}"
            )
    return _pg_problem


def require_backend(backend: str) -> None:
    if backend != "postgresql":
        return
    problem = postgres_problem()
    if problem is None:
        return
    if REQUIRE_PG:
        pytest.fail(problem + " (CRYPTO_DASH_TEST_REQUIRE_POSTGRES=1)")
    pytest.skip(problem)


def pytest_report_header(config: pytest.Config) -> str:
    problem = postgres_problem()
    if problem is None:
        return f"postgresql tests: on ({PG_URL})"
    return f"postgresql tests: SKIPPED, {problem}"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's CRYPTO_DASH_* variables out of the tests."""
    for name in list(os.environ):
        if name.startswith("CRYPTO_DASH_") and not name.startswith("CRYPTO_DASH_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database.engine)
    database.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str | None]:
    """A fresh PostgreSQL schema for this test run, migrated once."""
    if postgres_problem() is not None:
        yield None
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    database = Database(rendered)
    migrate.upgrade(database.engine)
    database.dispose()
    yield rendered
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _truncate_all(database: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    require_backend(request.param)
    return str(request.param)


@pytest.fixture
def db_url(
    backend: str,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_schema_url: str | None,
) -> str:
    """The URL of an empty, migrated database of the test's backend."""
    if backend == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    assert postgres_schema_url is not None
    database = Database(postgres_schema_url)
    _truncate_all(database)
    database.dispose()
    return postgres_schema_url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()
