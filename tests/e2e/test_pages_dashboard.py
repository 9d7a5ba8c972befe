"""The dashboard: exact latest prices, freshness and the fetch banner, per role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Role
from tests.builders import join, make_org, make_user
from tests.builders_prices import add_coin, add_fetch_run, add_points, watch
from tests.e2e.apptest_support import open_app, shown, table

__all__ = ["open_app"]

EXACT = "65000.123456789012345678"


def open_dashboard(open_app, principal, **options):
    """The dashboard is the start page once an organization is chosen."""
    return open_app(principal, **options)


@pytest.fixture
def acme(db: Database):
    owner = make_user(db, "olga")
    org = make_org(db, "Acme", owner)
    return owner, org


def with_role(db: Database, org, role: Role):
    member = make_user(db, f"{role.value}-user")
    join(db, org.id, member, role)
    return member


def now_epoch(minutes_ago: int = 0) -> int:
    return int((datetime.now(UTC) - timedelta(minutes=minutes_ago)).timestamp())


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.OWNER])
def test_every_role_sees_the_exact_price_change_cap_and_age(
    db: Database, open_app, acme, role: Role
) -> None:
    owner, org = acme
    add_coin(db, "bitcoin", "btc")
    watch(db, org.id, "bitcoin")
    add_points(
        db,
        "bitcoin",
        [(now_epoch(125), "64000"), (now_epoch(5), EXACT)],
        change_24h_pct=2.5,
        market_cap="1280000000000",
    )
    add_fetch_run(db, "ok", datetime.now(UTC))
    actor = owner if role == Role.OWNER else with_role(db, org, role)

    at = open_dashboard(open_app, actor)

    assert at.title[0].value == "Dashboard of Acme"
    (row,) = table(at)
    assert row["Price (USD)"] == EXACT
    assert row["24h change (%)"] == 2.5
    assert row["Market cap (USD)"] == "1,280,000,000,000"
    assert row["Age"] == "5 min"
    assert row["CoinGecko id"] == "bitcoin"
    assert shown(at, "warning") == [] and shown(at, "error") == []


def test_the_sparkline_holds_a_week_of_closes_with_gaps_left_empty(
    db: Database, open_app, acme
) -> None:
    owner, org = acme
    add_coin(db, "bitcoin", "btc")
    watch(db, org.id, "bitcoin")
    add_points(db, "bitcoin", [(now_epoch(60 * 24 * 3), "100"), (now_epoch(1), "110")])

    at = open_dashboard(open_app, owner)

    line = table(at)[0]["7 days"]
    assert len(line) == 84
    assert [value for value in line if value == value and value is not None] == [
        100.0,
        110.0,
    ]


def test_a_rate_limited_last_fetch_shows_a_warning_saying_so(
    db: Database, open_app, acme
) -> None:
    owner, org = acme
    add_coin(db, "bitcoin", "btc")
    watch(db, org.id, "bitcoin")
    add_fetch_run(db, "ok", datetime.now(UTC) - timedelta(minutes=10))
    add_fetch_run(db, "rate_limited", datetime.now(UTC))

    at = open_dashboard(open_app, owner)

    assert shown(at, "warning") == [
        "CoinGecko is rate-limiting us; prices will resume shortly."
    ]


def test_a_failed_last_fetch_shows_an_error_with_the_reason(
    db: Database, open_app, acme
) -> None:
    owner, org = acme
    add_coin(db, "bitcoin", "btc")
    watch(db, org.id, "bitcoin")
    add_fetch_run(db, "failed", datetime.now(UTC), error="CoinGecko answered 503")

    at = open_dashboard(open_app, with_role(db, org, Role.VIEWER))

    assert shown(at, "error") == [
        "The last price fetch failed: CoinGecko answered 503."
    ]


def test_a_coin_without_a_price_says_it_comes_with_the_next_fetch(
    db: Database, open_app, acme
) -> None:
    owner, org = acme
    add_coin(db, "solana", "sol")
    watch(db, org.id, "solana")

    at = open_dashboard(open_app, owner)

    assert table(at)[0]["Price (USD)"] == "no price yet"
    assert "SOL: no price yet; the first price comes with the next fetch." in shown(
        at, "caption"
    )
    assert shown(at, "warning") == ["No prices have been fetched yet."]


@pytest.mark.parametrize(
    ("role", "message"),
    [
        (
            Role.VIEWER,
            "No coins on the watchlist yet. An editor or owner can add them on the "
            "Watchlist page.",
        ),
        (
            Role.EDITOR,
            "No coins on the watchlist yet. Add some on the Watchlist page; each "
            "gets its first price on the next fetch.",
        ),
    ],
)
def test_an_empty_watchlist_says_what_to_do_next(
    db: Database, open_app, acme, role: Role, message: str
) -> None:
    _, org = acme

    at = open_dashboard(open_app, with_role(db, org, role))

    assert shown(at, "info") == [message]


def test_the_cache_is_per_organization_so_no_tenant_sees_anothers_prices(
    db: Database, open_app
) -> None:
    alice = make_user(db, "alice")
    acme = make_org(db, "Acme", alice)
    beta = make_org(db, "Beta", alice)
    add_coin(db, "bitcoin", "btc")
    add_coin(db, "ethereum", "eth")
    watch(db, acme.id, "bitcoin")
    watch(db, beta.id, "ethereum")
    at = open_dashboard(open_app, alice)
    assert [row["CoinGecko id"] for row in table(at)] == ["bitcoin"]

    at.sidebar.selectbox(key="org_selector").select(str(beta.id)).run()

    assert at.title[0].value == "Dashboard of Beta"
    assert [row["CoinGecko id"] for row in table(at)] == ["ethereum"]
