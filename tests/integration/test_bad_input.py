"""Bad input is refused with a sentence a user understands, and nothing is written."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from crypto_dash.db.models import AuditEvent, Organization, PriceEntry
from crypto_dash.errors import NotFound, ValidationError
from crypto_dash.services import organizations, price_entries
from crypto_dash.services.pagination import PageRequest
from tests.builders import make_org, make_user


def _counts(db):
    with db.read_session() as session:
        return tuple(
            session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Organization, PriceEntry, AuditEvent)
        )


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "blank"),
        ("   ", "blank"),
        ("x" * 300, "at most 200"),
        ("bad\x00name", "control"),
        (42, "text"),
    ],
)
def test_bad_organization_names_are_refused_and_nothing_is_written(db, name, says):
    alice = make_user(db, "alice")
    before = _counts(db)

    with pytest.raises(ValidationError) as raised:
        organizations.create_organization(alice, db, name)

    assert says in raised.value.message
    assert raised.value.field_errors.keys() == {"name"}
    assert _counts(db) == before


def test_a_duplicate_name_is_refused_whatever_its_case(db):
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    make_org(db, "Acme", alice)
    before = _counts(db)

    with pytest.raises(ValidationError, match="already exists"):
        organizations.create_organization(bob, db, "  ACME ")

    assert _counts(db) == before


def test_renaming_onto_another_name_is_refused(db):
    alice = make_user(db, "alice")
    make_org(db, "Acme", alice)
    other = make_org(db, "Other", alice)

    with pytest.raises(ValidationError, match="already exists"):
        organizations.rename_organization(alice, db, other.id, "acme")

    assert organizations.get_organization(alice, db, other.id).name == "Other"


@pytest.mark.parametrize(
    ("price", "says"),
    [
        ("-1", "greater than zero"),
        ("0", "greater than zero"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("-inf", "finite"),
        ("abc", "must be a number"),
        ("", "must be a number"),
        (None, "must be a number"),
        (True, "must be a number"),
        ("1e400", "plain digits"),
        ("1e2", "plain digits"),
    ],
)
def test_bad_prices_are_refused_and_nothing_is_written(db, price, says):
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)
    before = _counts(db)

    with pytest.raises(ValidationError) as raised:
        price_entries.create_entry(alice, db, org.id, "BTC", price)

    assert says in raised.value.message
    assert _counts(db) == before


def test_an_unknown_organization_is_reported_missing(db):
    alice = make_user(db, "alice")

    with pytest.raises(NotFound, match="No such organization"):
        price_entries.create_entry(alice, db, uuid.uuid4(), "BTC", "1")
    with pytest.raises(NotFound, match="No such organization"):
        price_entries.list_entries(alice, db, "not-a-uuid")


@pytest.mark.parametrize(
    ("page", "size", "field"),
    [(0, 20, "page"), (-3, 20, "page"), (1, 10_000, "page_size"), (1, 0, "page_size")],
)
def test_out_of_range_pages_are_refused(page, size, field):
    with pytest.raises(ValidationError) as raised:
        PageRequest(page=page, size=size)

    assert field in raised.value.field_errors


def test_a_bad_ordering_names_the_allowed_ones(db):
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)

    with pytest.raises(ValidationError, match="timestamp"):
        price_entries.list_entries(alice, db, org.id, ordering="password")


def test_entries_order_by_price_as_numbers_not_text(db):
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)
    for text in ("9", "10", "0.5", "100.25"):
        price_entries.create_entry(alice, db, org.id, "BTC", text)

    ascending = price_entries.list_entries(alice, db, org.id, ordering="price")
    descending = price_entries.list_entries(alice, db, org.id, ordering="-price")

    assert [e.price_text for e in ascending.items] == ["0.5", "9", "10", "100.25"]
    assert [e.price_text for e in descending.items] == ["100.25", "10", "9", "0.5"]
