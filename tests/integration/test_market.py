"""Latest prices with their age and sparkline, and the state of the price feed."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from crypto_dash.services import market
from tests.builders import make_org, make_user
from tests.builders_prices import add_coin, add_fetch_run, add_points, watch

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())


def test_latest_prices_show_the_newest_exact_price_its_age_and_a_sparkline(db):
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)
    add_coin(db, "bitcoin", "btc")
    add_coin(db, "ethereum", "eth")
    watch(db, org.id, "bitcoin", "ethereum")
    week = [(T - 3600 * h, f"{60000 + h}.5") for h in range(1, 24 * 7)]
    add_points(db, "bitcoin", week)
    add_points(
        db,
        "bitcoin",
        [(T - 120, "65000.1234567890")],
        change_24h_pct=-1.25,
        market_cap="1280000000000.5",
    )

    prices = market.latest_prices(alice, db, org.id, "USD", now=NOW)

    btc, eth = prices
    assert btc.price == Decimal("65000.1234567890")
    assert btc.price_text == "65000.1234567890"
    assert btc.change_24h_pct == -1.25
    assert btc.market_cap == Decimal("1280000000000.5")
    assert btc.age == timedelta(minutes=2)
    assert len(btc.sparkline) == 84
    assert [v for v in btc.sparkline if v is not None][-1] == 65000.1234567890
    assert sum(value is not None for value in btc.sparkline) >= 80
    assert eth.price is None and eth.age is None and eth.sparkline == ()


def test_feed_status_tells_rate_limited_from_unreachable_from_never_fetched(db):
    alice = make_user(db, "alice")

    never = market.feed_status(alice, db)
    add_fetch_run(db, "ok", NOW - timedelta(minutes=10))
    add_fetch_run(db, "rate_limited", NOW - timedelta(minutes=5))
    limited = market.feed_status(alice, db)
    add_fetch_run(db, "failed", NOW, error="Could not connect to CoinGecko")
    failed = market.feed_status(alice, db)

    assert never.last_status is None and "No prices" in never.problem
    assert limited.last_status == "rate_limited"
    assert "rate-limiting" in limited.problem
    assert limited.last_success_at == NOW - timedelta(minutes=10)
    assert failed.last_status == "failed"
    assert (
        failed.problem == "The last price fetch failed: Could not connect to CoinGecko."
    )
    assert failed.last_run_at == NOW


def test_backfill_runs_do_not_count_towards_the_feed_status(db):
    alice = make_user(db, "alice")
    add_fetch_run(db, "ok", NOW - timedelta(minutes=5))
    add_fetch_run(db, "failed", NOW, kind="backfill", error="boom")

    status = market.feed_status(alice, db)

    assert status.last_status == "ok" and status.problem is None
