"""The history page: lines, candlesticks, rebased comparison, zones, gaps, export."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Role
from tests.builders import join, make_org, make_user
from tests.builders_prices import add_coin, add_points, add_series_in_sql, watch
from tests.e2e.apptest_support import keys, open_app, shown

__all__ = ["open_app"]

HOUR = 3600


def open_history(open_app, principal, **options):
    at = open_app(principal, **options)
    return at.switch_page("pages/history.py").run()


def figure(at) -> dict:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)


def values(raw) -> list:
    """A trace's array: plain JSON, or plotly's base64 typed array."""
    if isinstance(raw, dict) and "bdata" in raw:
        data = np.frombuffer(base64.b64decode(raw["bdata"]), dtype=raw["dtype"])
        return data.tolist()
    return list(raw)


def hourly(start: int, hours: int, base: float) -> list[tuple[int, str]]:
    return [(start + i * HOUR, f"{base + i:.2f}") for i in range(hours)]


@pytest.fixture
def acme(db: Database):
    owner = make_user(db, "olga")
    org = make_org(db, "Acme", owner)
    add_coin(db, "bitcoin", "btc")
    add_coin(db, "ethereum", "eth")
    watch(db, org.id, "bitcoin", "ethereum")
    now = int(datetime.now(UTC).timestamp()) // HOUR * HOUR
    start = now - 6 * 24 * HOUR
    # Bitcoin: two days, a day with nothing, then three days.
    add_points(db, "bitcoin", hourly(start, 48, 100.0))
    add_points(db, "bitcoin", hourly(start + 72 * HOUR, 72, 200.0))
    add_points(db, "ethereum", hourly(start, 144, 50.0))
    return owner, org, start


def with_role(db: Database, org, role: Role):
    member = make_user(db, f"{role.value}-user")
    join(db, org.id, member, role)
    return member


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.OWNER])
def test_every_role_sees_a_scattergl_line_with_the_zone_on_the_axis(
    db: Database, open_app, acme, role: Role
) -> None:
    owner, org, _ = acme
    actor = owner if role == Role.OWNER else with_role(db, org, role)

    at = open_history(open_app, actor, timezone="Europe/Paris")

    spec = figure(at)
    (trace,) = spec["data"]
    assert trace["type"] == "scattergl"
    assert spec["layout"]["xaxis"]["title"]["text"] == "Time (Europe/Paris)"
    assert at.multiselect(key="hist_coins").value == ["bitcoin"]


def test_times_are_wall_clock_times_in_the_viewers_zone(
    db: Database, open_app, acme
) -> None:
    owner, _, start = acme

    at = open_history(open_app, owner, timezone="Asia/Tokyo")

    (trace,) = figure(at)["data"]
    first = datetime.fromisoformat(values(trace["x"])[0])
    expected = datetime.fromtimestamp(start, ZoneInfo("Asia/Tokyo"))
    assert first == expected.replace(tzinfo=None)


def test_a_gap_in_the_data_stays_a_gap_in_the_line(
    db: Database, open_app, acme
) -> None:
    owner, _, _ = acme

    at = open_history(open_app, owner)

    (trace,) = figure(at)["data"]
    closes = values(trace["y"])
    breaks = [value for value in closes if value is None or value != value]
    assert len(breaks) == 1
    assert trace["connectgaps"] is False
    assert len(closes) == 48 + 72 + 1


def test_several_coins_are_compared_rebased_to_100_with_their_change(
    db: Database, open_app, acme
) -> None:
    owner, _, _ = acme
    at = open_history(open_app, owner)

    at.multiselect(key="hist_coins").set_value(["bitcoin", "ethereum"]).run()

    spec = figure(at)
    assert [trace["type"] for trace in spec["data"]] == ["scattergl", "scattergl"]
    assert [values(trace["y"])[0] for trace in spec["data"]] == [100.0, 100.0]
    assert "rebased to 100" in spec["layout"]["yaxis"]["title"]["text"]
    change = {metric.label: metric.value for metric in at.metric}
    assert change == {
        "BTC over the range": f"{(271.0 / 100.0 - 1) * 100:+.2f}%",
        "ETH over the range": f"{(193.0 / 50.0 - 1) * 100:+.2f}%",
    }


def test_a_candlestick_chart_draws_open_high_low_close(
    db: Database, open_app, acme
) -> None:
    owner, _, start = acme
    add_points(
        db,
        "ethereum",
        [
            (start + 30 * 60, "49.5"),
            (start + 40 * 60, "51.25"),
            (start + 50 * 60, "50.75"),
        ],
    )
    at = open_history(open_app, owner)
    at.multiselect(key="hist_coins").set_value(["ethereum"]).run()

    at.radio(key="hist_kind").set_value("Candlestick").run()

    (trace,) = figure(at)["data"]
    assert trace["type"] == "candlestick"
    assert len(values(trace["x"])) <= 300
    first = [values(trace[name])[0] for name in ("open", "high", "low", "close")]
    assert first == [50.0, 51.25, 49.5, 50.75]


def test_a_year_of_five_minute_points_reaches_the_chart_as_at_most_2000(
    db: Database, open_app, acme
) -> None:
    owner, org, _ = acme
    add_coin(db, "solana", "sol")
    watch(db, org.id, "solana")
    year_ago = int((datetime.now(UTC) - timedelta(days=365)).timestamp())
    add_series_in_sql(db, "solana", 365 * 288, start=year_ago)
    at = open_history(open_app, owner)
    at.multiselect(key="hist_coins").set_value(["solana"]).run()

    at.radio(key="hist_range").set_value("All").run()

    (trace,) = figure(at)["data"]
    assert 1000 < len(values(trace["y"])) <= 2000
    assert "One point per 6 h; gaps in the data stay gaps." in shown(at, "caption")


def test_the_export_link_carries_the_organization_coins_range_and_zone(
    db: Database, open_app, acme
) -> None:
    owner, org, _ = acme
    at = open_history(open_app, owner, timezone="Europe/Paris")
    at.multiselect(key="hist_coins").set_value(["bitcoin", "ethereum"]).run()

    (link,) = at.get("link_button")
    url = urlsplit(link.proto.url)
    query = parse_qs(url.query)

    assert url.path == "/api/export/prices.csv"
    assert query["org"] == [str(org.id)]
    assert query["coin"] == ["bitcoin", "ethereum"]
    assert query["tz"] == ["Europe/Paris"]
    since = datetime.fromisoformat(query["from"][0])
    until = datetime.fromisoformat(query["to"][0])
    assert timedelta(days=6, hours=23) < until - since <= timedelta(days=7, seconds=2)


def test_the_charts_buckets_can_be_downloaded_beside_the_raw_points(
    db: Database, open_app, acme
) -> None:
    owner, _, _ = acme

    at = open_history(open_app, owner)

    (button,) = at.get("download_button")
    assert button.proto.label == "Download the chart's buckets as CSV"
    assert not at.exception


def test_custom_dates_in_the_viewers_zone_bound_the_chart(
    db: Database, open_app, acme
) -> None:
    owner, _, start = acme
    zone = ZoneInfo("America/New_York")
    day = datetime.fromtimestamp(start + 3 * 24 * HOUR, zone).date()
    at = open_history(open_app, owner, timezone="America/New_York")
    at.multiselect(key="hist_coins").set_value(["ethereum"]).run()
    at.radio(key="hist_range").set_value("Custom dates").run()

    at.date_input(key="hist_from").set_value(day)
    at.date_input(key="hist_to").set_value(day).run()

    (trace,) = figure(at)["data"]
    times = [datetime.fromisoformat(x) for x in values(trace["x"])]
    assert {t.date() for t in times} == {day}
    assert len(times) in (23, 24, 25)  # a day, or a day with a DST change


def test_a_range_without_prices_says_what_to_do(db: Database, open_app, acme) -> None:
    owner, org, _ = acme
    add_coin(db, "solana", "sol")
    watch(db, org.id, "solana")
    at = open_history(open_app, owner)

    at.multiselect(key="hist_coins").set_value(["solana"]).run()

    assert shown(at, "info") == [
        "No stored prices in this range. Choose a longer range, or ask an "
        "administrator to backfill these coins on the Watchlist page."
    ]
    assert not at.get("plotly_chart")


def test_an_empty_watchlist_sends_the_user_to_the_watchlist_page(
    db: Database, open_app
) -> None:
    owner = make_user(db, "olga")
    make_org(db, "Acme", owner)

    at = open_history(open_app, owner)

    assert shown(at, "info") == [
        "No coins on the watchlist yet. Add some on the Watchlist page, then "
        "come back for their history."
    ]
    assert "hist_coins" not in keys(at)
