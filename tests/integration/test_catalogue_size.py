"""The catalogue's size, which tells the watchlist page to offer a refresh."""

from __future__ import annotations

from crypto_dash.db.engine import Database
from crypto_dash.services import coins
from tests.builders import make_user
from tests.builders_prices import add_coin


def test_the_catalogue_size_counts_the_stored_coins_for_any_user(
    db: Database,
) -> None:
    user = make_user(db, "alice")
    assert coins.catalogue_size(user, db) == 0

    add_coin(db, "bitcoin", "btc")
    add_coin(db, "ethereum", "eth")

    assert coins.catalogue_size(user, db) == 2
