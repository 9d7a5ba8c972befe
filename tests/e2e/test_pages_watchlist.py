"""The watchlist page: search the catalogue, add, remove, refresh, backfill."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from crypto_dash.db.engine import Database
from crypto_dash.db.models import MarketPrice, Role
from crypto_dash.services import watchlist
from tests.builders import join, make_org, make_user
from tests.builders_prices import watch
from tests.e2e.apptest_support import column, keys, open_app, shown
from tests.fake_coingecko import FakeCoinGecko
from tests.fake_coingecko.helpers import client_for, seed_catalogue

__all__ = ["open_app"]

EDIT_KEYS = {"watch_search", "watch_add", "watch_remove", "watch_lookup"}
ADMIN_KEYS = {"catalogue_refresh", "backfill_start"}
FIRST_PRICE = "A new coin gets its first price on the next fetch."


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCoinGecko]:
    """The fake CoinGecko, and the app's settings pointed at it."""
    with FakeCoinGecko() as server:
        monkeypatch.setenv("CRYPTO_DASH_COINGECKO_BASE_URL", server.base_url)
        monkeypatch.setenv("CRYPTO_DASH_COINGECKO_CALLS_PER_MINUTE", "6000")
        yield server


@pytest.fixture
def catalogue(db: Database, fake: FakeCoinGecko) -> None:
    client = client_for(fake)
    try:
        seed_catalogue(db, client)
    finally:
        client.close()


@pytest.fixture
def acme(db: Database):
    owner = make_user(db, "olga")
    return owner, make_org(db, "Acme", owner)


def with_role(db: Database, org, role: Role):
    member = make_user(db, f"{role.value}-user")
    join(db, org.id, member, role)
    return member


def open_watchlist(open_app, principal):
    return open_app(principal).switch_page("pages/watchlist.py").run()


def test_a_viewer_sees_the_list_but_no_controls_and_who_can_backfill(
    db: Database, open_app, acme, catalogue
) -> None:
    _, org = acme
    watch(db, org.id, "bitcoin", "ethereum")

    at = open_watchlist(open_app, with_role(db, org, Role.VIEWER))

    assert column(at, "CoinGecko id") == ["bitcoin", "ethereum"]
    assert not keys(at) & (EDIT_KEYS | ADMIN_KEYS)
    assert "An administrator can backfill a coin's history from this page." in (
        shown(at, "caption")
    )


def test_an_empty_watchlist_tells_a_viewer_who_can_add_coins(
    db: Database, open_app, acme, catalogue
) -> None:
    _, org = acme

    at = open_watchlist(open_app, with_role(db, org, Role.VIEWER))

    assert shown(at, "info") == [
        "No coins on the watchlist yet. An editor or owner can add them."
    ]


@pytest.mark.parametrize("role", [Role.EDITOR, Role.OWNER])
def test_coins_sharing_a_symbol_are_told_apart_and_the_chosen_id_is_stored(
    db: Database, open_app, acme, catalogue, role: Role
) -> None:
    owner, org = acme
    actor = owner if role == Role.OWNER else with_role(db, org, role)
    at = open_watchlist(open_app, actor)

    at.text_input(key="watch_search").input("btc").run()
    pick = at.selectbox(key="watch_pick")
    labels = pick.options
    assert len(labels) == 3  # and Wrapped Bitcoin, whose symbol contains "btc"
    assert labels[0].startswith("Bitcoin (BTC) · bitcoin · rank 1 · market cap ")
    assert labels[1].startswith("Bitcoin (Bridged) (BTC) · bitcoin-bridged-fake · ")
    assert any("Several coins use the symbol BTC" in t for t in shown(at, "caption"))
    pick.select_index(1)
    at.button(key="watch_add").click().run()

    assert shown(at, "success") == [
        f"Watching Bitcoin (Bridged) (BTC, bitcoin-bridged-fake). {FIRST_PRICE}"
    ]
    assert column(at, "CoinGecko id") == ["bitcoin-bridged-fake"]
    (stored,) = watchlist.list_watchlist(owner, db, org.id)
    assert stored.coin_id == "bitcoin-bridged-fake"


def test_an_editor_removes_a_coin_and_its_prices_stay_stored(
    db: Database, open_app, acme, catalogue
) -> None:
    owner, org = acme
    watch(db, org.id, "bitcoin", "ethereum")
    at = open_watchlist(open_app, with_role(db, org, Role.EDITOR))

    at.selectbox(key="watch_remove_pick").select("ethereum")
    at.button(key="watch_remove").click().run()

    assert shown(at, "success") == ["Stopped watching Ethereum; its prices stay."]
    assert column(at, "CoinGecko id") == ["bitcoin"]


def test_an_empty_catalogue_asks_an_editor_to_get_an_administrator(
    db: Database, open_app, acme
) -> None:
    _, org = acme

    at = open_watchlist(open_app, with_role(db, org, Role.EDITOR))

    assert shown(at, "info")[-1] == (
        "The coin catalogue is empty: ask an administrator to refresh it from "
        "CoinGecko, or add a coin by its CoinGecko id."
    )
    assert "catalogue_refresh" not in keys(at)


def test_an_administrator_refreshes_an_empty_catalogue_from_coingecko(
    db: Database, open_app, acme, fake
) -> None:
    admin = make_user(db, "root", admin=True)
    at = open_watchlist(open_app, admin)
    assert (
        "The coin catalogue is empty. Refresh it from CoinGecko"
        in (shown(at, "info")[-1])
    )

    at.button(key="catalogue_refresh").click().run()

    assert shown(at, "success") == ["The catalogue holds 12 coins, 11 of them ranked."]
    at.text_input(key="watch_search").input("solana").run()
    assert at.selectbox(key="watch_pick").options[0].startswith("Solana (SOL)")


def test_a_coin_missing_from_the_catalogue_is_looked_up_on_coingecko_by_id(
    db: Database, open_app, acme, fake
) -> None:
    owner, org = acme
    at = open_watchlist(open_app, owner)

    at.text_input(key="watch_search").input("solana").run()
    at.button(key="watch_lookup").click().run()

    assert shown(at, "success") == [f"Watching Solana (SOL, solana). {FIRST_PRICE}"]
    assert column(at, "CoinGecko id") == ["solana"]


def test_an_unknown_id_looked_up_on_coingecko_is_refused_with_the_reason(
    db: Database, open_app, acme, fake
) -> None:
    owner, _ = acme
    at = open_watchlist(open_app, owner)

    at.text_input(key="watch_search").input("no-such-coin").run()
    at.button(key="watch_lookup").click().run()

    assert shown(at, "error") == ["CoinGecko knows no coin with the id 'no-such-coin'."]


def test_an_administrator_backfills_a_watched_coin_with_a_progress_bar(
    db: Database, open_app, acme, catalogue
) -> None:
    _, org = acme
    watch(db, org.id, "bitcoin")
    admin = make_user(db, "root", admin=True)
    at = open_watchlist(open_app, admin)
    assert at.multiselect(key="backfill_coins").value == ["bitcoin"]

    at.selectbox(key="backfill_days").select("7 days")
    at.button(key="backfill_start").click().run()

    with db.read_session() as session:
        stored = session.scalar(
            sa.select(sa.func.count()).where(MarketPrice.coin_id == "bitcoin")
        )
    assert stored > 0
    assert shown(at, "success") == [f"Backfill done: {stored} points stored."]
    (bar,) = at.get("progress")
    assert bar.proto.value == 100


def test_an_editor_gets_no_backfill_controls(
    db: Database, open_app, acme, catalogue
) -> None:
    _, org = acme
    watch(db, org.id, "bitcoin")

    at = open_watchlist(open_app, with_role(db, org, Role.EDITOR))

    assert "backfill_start" not in keys(at)
    assert "An administrator can backfill a coin's history from this page." in (
        shown(at, "caption")
    )
