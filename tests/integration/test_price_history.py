"""Price history buckets: OHLC from SQL, few enough points, gaps left as gaps."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from crypto_dash.db.models import Role
from crypto_dash.errors import NotFound
from crypto_dash.services import history
from tests.builders import join, make_org, make_user
from tests.builders_prices import (
    YEAR_START,
    add_coin,
    add_points,
    add_series_in_sql,
    watch,
)

START = datetime.fromtimestamp(YEAR_START, UTC)
YEAR_OF_POINTS = 365 * 24 * 12


@pytest.fixture
def acme(db):
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)
    add_coin(db, "bitcoin", "btc")
    add_coin(db, "ethereum", "eth")
    watch(db, org.id, "bitcoin", "ethereum")
    return alice, org


def test_a_year_of_five_minute_points_comes_back_in_at_most_2000_buckets(db, acme):
    alice, org = acme
    add_series_in_sql(db, "bitcoin", YEAR_OF_POINTS)

    result = history.price_history(
        alice, db, org.id, ["bitcoin"], "usd", START, START + timedelta(days=365)
    )

    frame = result.series[0].frame
    assert 1000 < len(frame) <= 2000
    assert frame["count"].sum() == YEAR_OF_POINTS
    assert result.bucket_seconds * 2000 >= 365 * 86400


def test_candles_ask_for_fewer_wider_buckets(db, acme):
    alice, org = acme
    add_series_in_sql(db, "bitcoin", 30 * 24 * 12)

    result = history.price_history(
        alice, db, org.id, ["bitcoin"], "usd", START, None, candles=True
    )

    assert len(result.series[0].frame) <= history.CANDLE_POINTS


def test_open_high_low_close_match_pandas_over_the_same_points(db, acme):
    alice, org = acme
    points = [
        (YEAR_START + 37 * i + (i % 7), f"{100 + (i * 7919) % 997}.{i:04d}")
        for i in range(3000)
    ]
    add_points(db, "bitcoin", points)
    end = START + timedelta(days=2)

    result = history.price_history(
        alice, db, org.id, ["bitcoin"], "usd", START, end, max_points=50
    )

    width = result.bucket_seconds
    raw = pd.DataFrame(points, columns=["t", "price"]).astype({"price": float})
    raw = raw[raw["t"] < YEAR_START + 2 * 86400]
    expected = raw.groupby(raw["t"] // width * width)["price"].agg(
        ["first", "max", "min", "last", "count"]
    )
    frame = result.series[0].frame
    assert len(frame) <= 50
    assert list(frame["bucket_start"]) == [
        datetime.fromtimestamp(t, UTC) for t in expected.index
    ]
    assert list(frame["open"]) == list(expected["first"])
    assert list(frame["high"]) == list(expected["max"])
    assert list(frame["low"]) == list(expected["min"])
    assert list(frame["close"]) == list(expected["last"])
    assert list(frame["count"]) == list(expected["count"])


def test_bucket_starts_are_aware_utc_times(db, acme):
    alice, org = acme
    add_points(db, "bitcoin", [(YEAR_START, "1"), (YEAR_START + 300, "2")])

    result = history.price_history(
        alice, db, org.id, None, "usd", START, START + timedelta(hours=1)
    )

    stamp = result.series[0].frame["bucket_start"].iloc[0]
    assert stamp.tzinfo is not None and stamp.utcoffset() == timedelta(0)
    assert stamp == START


def test_empty_buckets_produce_no_rows_and_charts_break_there(db, acme):
    alice, org = acme
    before = [(YEAR_START + 300 * i, "10") for i in range(12)]
    after = [(YEAR_START + 6 * 3600 + 300 * i, "20") for i in range(12)]
    add_points(db, "bitcoin", before + after)

    result = history.price_history(
        alice, db, org.id, ["bitcoin"], "usd", START, START + timedelta(hours=8)
    )
    lines = history.with_gap_breaks(result.series[0].frame, result.bucket_seconds)

    frame = result.series[0].frame
    assert len(frame) == 24
    steps = frame["bucket_start"].diff().dt.total_seconds().dropna()
    assert steps.max() > 5 * 3600
    assert lines["close"].isna().sum() == 1
    assert len(lines) == 25


def test_several_coins_are_rebased_to_100_with_their_change_over_the_range(db, acme):
    alice, org = acme
    add_points(db, "bitcoin", [(YEAR_START, "100"), (YEAR_START + 86400, "150")])
    add_points(db, "ethereum", [(YEAR_START, "10"), (YEAR_START + 86400, "5")])

    result = history.price_history(
        alice, db, org.id, None, "usd", START, START + timedelta(days=2)
    )
    rebased = result.rebased()

    assert [s.coin.symbol for s in result.series] == ["btc", "eth"]
    assert list(rebased["bitcoin"].dropna()) == [100.0, 150.0]
    assert list(rebased["ethereum"].dropna()) == [100.0, 50.0]
    assert [s.change_pct for s in result.series] == [50.0, -50.0]


def test_a_coin_without_points_has_an_empty_series(db, acme):
    alice, org = acme

    result = history.price_history(
        alice, db, org.id, ["ethereum"], "usd", START, START + timedelta(days=1)
    )

    assert result.series[0].frame.empty
    assert result.series[0].change_pct is None


def test_a_viewer_may_chart_but_another_orgs_coin_is_refused(db, acme):
    alice, org = acme
    bob = make_user(db, "bob")
    join(db, org.id, bob, Role.VIEWER)
    other = make_org(db, "Other", make_user(db, "carol"))
    add_coin(db, "solana", "sol")
    watch(db, other.id, "solana")
    add_points(db, "solana", [(YEAR_START, "1")])

    with pytest.raises(NotFound):
        history.price_history(bob, db, org.id, ["solana"], "usd", START, None)
    with pytest.raises(NotFound):
        history.price_history(bob, db, other.id, ["solana"], "usd", START, None)
    mine = history.price_history(bob, db, org.id, None, "usd", START, None)
    assert [s.coin.id for s in mine.series] == ["bitcoin", "ethereum"]


def test_the_charts_buckets_export_as_csv_in_the_viewers_zone(db, acme):
    import csv
    import io
    from zoneinfo import ZoneInfo

    from crypto_dash.services.export import buckets_csv

    alice, org = acme
    add_points(db, "bitcoin", [(YEAR_START + 60 * i, str(100 + i)) for i in range(10)])
    result = history.price_history(
        alice, db, org.id, ["bitcoin"], "usd", START, START + timedelta(hours=1)
    )

    rows = list(csv.reader(io.StringIO(buckets_csv(result, ZoneInfo("Asia/Tokyo")))))

    assert rows[0][3] == "bucket_start (Asia/Tokyo)"
    body = rows[1:]
    assert len(body) == len(result.series[0].frame)
    assert all(row[0] == "bitcoin" and row[3].endswith("+09:00") for row in body)
    assert sum(int(row[9]) for row in body) == 10
    assert float(body[0][5]) == 100.0 and float(body[-1][8]) == 109.0
