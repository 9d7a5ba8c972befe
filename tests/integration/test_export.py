"""CSV export: exact decimals, times with offsets, safe cells, streamed in chunks."""

import csv
import io
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from crypto_dash.db.models import Role
from crypto_dash.errors import NotFound, ValidationError
from crypto_dash.runtime import Runtime
from crypto_dash.server.export_route import make_export_endpoint
from crypto_dash.services import export
from crypto_dash.settings import Settings
from tests.api_support import SECRET
from tests.builders import join, make_org, make_user
from tests.builders_prices import (
    YEAR_START,
    add_coin,
    add_points,
    add_series_in_sql,
    watch,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def acme(db):
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)
    add_coin(db, "bitcoin", "btc")
    watch(db, org.id, "bitcoin")
    return alice, org


def read_csv(chunks):
    return list(csv.reader(io.StringIO("".join(chunks))))


def test_the_csv_keeps_exact_prices_and_states_the_zone_and_offsets(db, acme):
    alice, org = acme
    summer, winter = 1719835200, 1704067200  # 2024-07-01 12:00, 2024-01-01 00:00 UTC
    add_points(db, "bitcoin", [(winter, "65000.1234567890"), (summer, "0.000000001")])

    rows = read_csv(
        export.export_rows(alice, db, org.id, None, None, None, "Europe/Berlin")
    )

    assert rows[0] == [
        "coin_id",
        "symbol",
        "vs_currency",
        "observed_at (Europe/Berlin)",
        "price",
        "source",
    ]
    assert rows[1] == [
        "bitcoin",
        "btc",
        "usd",
        "2024-01-01T01:00:00+01:00",
        "65000.1234567890",
        "test",
    ]
    assert rows[2][3:5] == ["2024-07-01T14:00:00+02:00", "0.000000001"]


def test_utc_is_the_default_zone(db, acme):
    alice, org = acme
    add_points(db, "bitcoin", [(YEAR_START, "1")])

    rows = read_csv(export.export_rows(alice, db, org.id, None, None, None, None))

    assert rows[0][3] == "observed_at (UTC)"
    assert rows[1][3] == "2024-01-01T00:00:00+00:00"


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(db):
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)
    add_coin(db, "evil", "=HYPERLINK(1)")
    watch(db, org.id, "evil")
    for i, source in enumerate(["@SUM(A1)", "+1", "-1", "\tx", "\rx", "fine"]):
        add_points(db, "evil", [(YEAR_START + i, "1")], source=source)

    rows = read_csv(export.export_rows(alice, db, org.id, None, None, None, "UTC"))

    assert {row[1] for row in rows[1:]} == {"'=HYPERLINK(1)"}
    assert [row[5] for row in rows[1:]] == [
        "'@SUM(A1)",
        "'+1",
        "'-1",
        "'\tx",
        "'\rx",
        "fine",
    ]


def test_the_range_is_half_open_and_coins_can_be_picked(db, acme):
    alice, org = acme
    add_coin(db, "ethereum", "eth")
    watch(db, org.id, "ethereum")
    add_points(db, "bitcoin", [(YEAR_START + 60 * i, "1") for i in range(10)])
    add_points(db, "ethereum", [(YEAR_START, "2")])
    start = datetime.fromtimestamp(YEAR_START + 120, UTC)
    end = datetime.fromtimestamp(YEAR_START + 300, UTC)

    rows = read_csv(export.export_rows(alice, db, org.id, ["bitcoin"], start, end))

    assert [row[3][11:19] for row in rows[1:]] == ["00:02:00", "00:03:00", "00:04:00"]


def test_a_viewer_may_export_but_not_another_organizations_coins(db, acme):
    alice, org = acme
    bob = make_user(db, "bob")
    join(db, org.id, bob, Role.VIEWER)
    other = make_org(db, "Other", make_user(db, "carol"))
    add_coin(db, "solana", "sol")
    watch(db, other.id, "solana")
    add_points(db, "solana", [(YEAR_START, "1")])
    add_points(db, "bitcoin", [(YEAR_START, "2")])

    mine = read_csv(export.export_rows(bob, db, org.id, None, None, None))

    assert [row[0] for row in mine[1:]] == ["bitcoin"]
    with pytest.raises(NotFound):
        export.export_rows(bob, db, org.id, ["solana"], None, None)
    with pytest.raises(NotFound):
        export.export_rows(bob, db, other.id, None, None, None)


def test_bad_zones_and_dates_are_refused_before_any_text(db, acme):
    alice, org = acme

    with pytest.raises(ValidationError):
        export.export_rows(alice, db, org.id, None, None, None, "Mars/Base")
    with pytest.raises(ValidationError):
        export.parse_bound("31/12/2024", UTC, end=False)


def test_a_date_as_the_end_includes_that_whole_day():
    end = export.parse_bound("2024-03-31", UTC, end=True)

    assert end == datetime(2024, 4, 1, tzinfo=UTC)


@pytest.mark.slow
def test_a_million_rows_stream_in_chunks_of_ten_thousand(db, acme):
    alice, org = acme
    add_series_in_sql(db, "bitcoin", 1_000_000)

    tracemalloc.start()
    sizes = []
    for chunk in export.export_rows(alice, db, org.id, None, None, None):
        sizes.append(chunk.count("\n"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert sum(sizes) == 1_000_001
    assert len(sizes) == 100
    assert max(sizes) <= export.CHUNK_ROWS + 1
    assert peak < 40 * 2**20


def route_client(db, principal):
    settings = Settings(database_url=db.url, jwt_secret=SECRET)
    runtime = Runtime(settings=settings, db=db)
    endpoint = make_export_endpoint(lambda: runtime, lambda request: principal)
    app = Starlette(routes=[Route("/api/export.csv", endpoint)])
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    )


async def fetch(db, principal, params):
    async with route_client(db, principal) as client:
        return await client.get("/api/export.csv", params=params)


def test_the_route_streams_csv_as_an_attachment(db, acme):
    import asyncio

    alice, org = acme
    add_points(db, "bitcoin", [(YEAR_START, "65000.1234567890")])

    response = asyncio.run(
        fetch(db, alice, {"org": str(org.id), "coin": "bitcoin", "tz": "Asia/Tokyo"})
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment; filename=" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[1][3:5] == ["2024-01-01T09:00:00+09:00", "65000.1234567890"]


def test_the_route_answers_401_404_and_400(db, acme):
    import asyncio

    alice, org = acme
    stranger = make_user(db, "mallory")

    anonymous = asyncio.run(fetch(db, None, {"org": str(org.id)}))
    outsider = asyncio.run(fetch(db, stranger, {"org": str(org.id)}))
    bad_date = asyncio.run(fetch(db, alice, {"org": str(org.id), "from": "soon"}))

    assert anonymous.status_code == 401
    assert outsider.status_code == 404
    assert outsider.json() == {"detail": "No such organization."}
    assert bad_date.status_code == 400


def test_the_cli_writes_the_same_csv_to_stdout(db, db_url, acme):
    alice, org = acme
    add_points(db, "bitcoin", [(YEAR_START, "1.10"), (YEAR_START + 86400, "2.20")])

    done = subprocess.run(
        [sys.executable, "-m", "crypto_dash", "export", "--org", "acme"]
        + ["--coin", "bitcoin", "--from", "2024-01-01", "--to", "2024-01-01"]
        + ["--tz", "America/New_York"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"CRYPTO_DASH_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"},
        check=False,
    )

    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0][3] == "observed_at (America/New_York)"
    assert [row[3:5] for row in rows[1:]] == [["2024-01-01T19:00:00-05:00", "2.20"]]
