"""Watchlists and the coin catalogue, with the roles that may change them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crypto_dash.db.models import Role
from crypto_dash.errors import NotFound, PermissionDenied, ValidationError
from crypto_dash.services import coins, watchlist
from crypto_dash.services.principal import Principal
from tests.builders import join, make_org, make_user
from tests.fake_coingecko import FakeCoinGecko
from tests.fake_coingecko.helpers import client_for, seed_catalogue

SYSTEM = Principal.system()


@pytest.fixture
def client() -> Iterator:
    with FakeCoinGecko() as fake:
        gecko = client_for(fake)
        yield gecko
        gecko.close()


@pytest.fixture
def team(db, client):
    seed_catalogue(db, client)
    owner = make_user(db, "olivia")
    org = make_org(db, "Acme", owner)
    editor, viewer = make_user(db, "eddie"), make_user(db, "vera")
    join(db, org.id, editor, Role.EDITOR)
    join(db, org.id, viewer, Role.VIEWER)
    return org, owner, editor, viewer


def test_an_editor_adds_coins_and_a_viewer_sees_them_by_rank(db, team):
    org, _, editor, viewer = team

    watchlist.add_to_watchlist(editor, db, org.id, "ethereum")
    watchlist.add_to_watchlist(editor, db, org.id, "bitcoin")
    watchlist.add_to_watchlist(editor, db, org.id, "bitcoin")

    seen = watchlist.list_watchlist(viewer, db, org.id)
    assert [coin.coin_id for coin in seen] == ["bitcoin", "ethereum"]
    assert seen[0].name == "Bitcoin"


def test_a_viewer_cannot_change_the_watchlist(db, team):
    org, _, _, viewer = team

    with pytest.raises(PermissionDenied):
        watchlist.add_to_watchlist(viewer, db, org.id, "bitcoin")

    assert watchlist.list_watchlist(viewer, db, org.id) == []


def test_an_outsider_is_told_the_organization_does_not_exist(db, team):
    org, *_ = team
    outsider = make_user(db, "oscar")

    with pytest.raises(NotFound):
        watchlist.list_watchlist(outsider, db, org.id)
    with pytest.raises(NotFound):
        watchlist.add_to_watchlist(outsider, db, org.id, "bitcoin")


def test_removing_a_coin_takes_it_off_and_a_second_removal_says_so(db, team):
    org, owner, *_ = team
    watchlist.add_to_watchlist(owner, db, org.id, "bitcoin")

    watchlist.remove_from_watchlist(owner, db, org.id, "bitcoin")

    assert watchlist.list_watchlist(owner, db, org.id) == []
    with pytest.raises(NotFound):
        watchlist.remove_from_watchlist(owner, db, org.id, "bitcoin")


def test_the_fetch_reads_the_union_of_all_watchlists(db, team):
    org, owner, *_ = team
    other = make_org(db, "Beta", owner)
    watchlist.add_to_watchlist(owner, db, org.id, "bitcoin")
    watchlist.add_to_watchlist(owner, db, other.id, "bitcoin")
    watchlist.add_to_watchlist(owner, db, other.id, "solana")

    assert watchlist.watched_coin_ids(db) == ["bitcoin", "solana"]


def test_a_coin_missing_from_the_catalogue_is_refused_without_a_client(db):
    owner = make_user(db, "olivia")
    org = make_org(db, "Acme", owner)

    with pytest.raises(ValidationError, match="catalogue"):
        watchlist.add_to_watchlist(owner, db, org.id, "bitcoin")


def test_with_a_client_an_unknown_coin_is_looked_up_and_stored_first(db, client):
    owner = make_user(db, "olivia")
    org = make_org(db, "Acme", owner)

    added = watchlist.add_to_watchlist(owner, db, org.id, "solana", client=client)

    assert (added.coin_id, added.symbol, added.market_cap_rank) == ("solana", "sol", 4)
    with pytest.raises(ValidationError, match="CoinGecko knows no coin"):
        watchlist.add_to_watchlist(owner, db, org.id, "no-such-coin", client=client)


def test_search_finds_coins_by_symbol_and_tells_a_shared_symbol_apart(db, team):
    _, _, _, viewer = team

    found = coins.search_coins(viewer, db, "BTC")

    assert [c.id for c in found][:2] == ["bitcoin", "bitcoin-bridged-fake"]
    assert all(c.symbol_shared for c in found[:2])
    assert "bitcoin-bridged-fake" in found[1].label


def test_search_matches_names_case_insensitively_and_treats_wildcards_as_text(db, team):
    _, _, _, viewer = team

    assert [c.id for c in coins.search_coins(viewer, db, "shiba")] == ["shiba-inu"]
    assert coins.search_coins(viewer, db, "%") == []


def test_only_an_administrator_refreshes_the_catalogue(db, team, client):
    _, owner, *_ = team

    with pytest.raises(PermissionDenied):
        coins.refresh_catalogue(owner, db, client)

    report = coins.refresh_catalogue(SYSTEM, db, client)
    assert (report.coins_listed, report.coins_ranked) == (12, 11)
