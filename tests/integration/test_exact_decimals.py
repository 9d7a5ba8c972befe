"""Prices come back as the very value and string they went in as, on both backends."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from crypto_dash.db.models import Coin, MarketPrice
from crypto_dash.db.types import format_decimal
from crypto_dash.services import price_entries
from tests.builders import make_org, make_user

EXACT = ["65000.1234567890", "0.00000000000123456789", "1", "123456789012.000000000001"]


@pytest.mark.parametrize("text", EXACT)
def test_a_price_entry_reads_back_as_the_same_decimal_string(db, text):
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)

    created = price_entries.create_entry(alice, db, org.id, "BTC", text)
    listed = price_entries.list_entries(alice, db, org.id).items[0]

    assert listed.id == created.id
    assert listed.price == Decimal(text)
    assert format_decimal(listed.price) == text


def test_market_prices_keep_exact_values_through_core_inserts(db):
    with db.session() as session:
        session.add(Coin(id="bitcoin", symbol="btc", name="Bitcoin"))
    rows = [
        {
            "coin_id": "bitcoin",
            "vs_currency": "usd",
            "observed_at": 1_700_000_000 + i,
            "price": Decimal(text),
            "price_float": float(text),
            "source": "test",
            "fetched_at": 1_700_000_000,
        }
        for i, text in enumerate(EXACT)
    ]
    with db.session() as session:
        session.execute(sa.insert(MarketPrice), rows)

    with db.read_session() as session:
        stored = session.scalars(
            sa.select(MarketPrice.price).order_by(MarketPrice.observed_at)
        ).all()

    assert [format_decimal(value) for value in stored] == EXACT
