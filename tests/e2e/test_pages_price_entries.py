"""The price entries page: editors add and delete; everyone with a role reads."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Role
from crypto_dash.services import members, price_entries
from tests.builders import join, make_org, make_user
from tests.e2e.apptest_support import column, keys, open_app, shown

__all__ = ["open_app"]

EDIT_KEYS = {"entry_add_submit", "entry_symbol", "entry_price", "entry_delete"}
EXACT = "65000.1234567890123456789"


def open_entries(open_app, principal, **options):
    at = open_app(principal, **options)
    return at.switch_page("pages/price_entries.py").run()


@pytest.fixture
def acme(db: Database):
    owner = make_user(db, "olga")
    org = make_org(db, "Acme", owner)
    return owner, org


def with_role(db: Database, org, role: Role):
    member = make_user(db, f"{role.value}-user")
    join(db, org.id, member, role)
    return member


def test_a_viewer_reads_exact_prices_but_gets_no_editing_controls(
    db: Database, open_app, acme
) -> None:
    owner, org = acme
    price_entries.create_entry(owner, db, org.id, "BTC", EXACT)
    viewer = with_role(db, org, Role.VIEWER)

    at = open_entries(open_app, viewer)

    assert column(at, "Price") == [EXACT]
    assert not keys(at) & EDIT_KEYS


def test_a_viewer_with_no_entries_is_told_who_can_add_them(
    db: Database, open_app, acme
) -> None:
    _, org = acme

    at = open_entries(open_app, with_role(db, org, Role.VIEWER))

    assert shown(at, "info") == [
        "No price entries yet. An editor or owner can add them."
    ]


@pytest.mark.parametrize("role", [Role.EDITOR, Role.OWNER])
def test_an_editor_or_owner_adds_an_entry_and_sees_the_exact_price(
    db: Database, open_app, acme, role: Role
) -> None:
    owner, org = acme
    actor = owner if role == Role.OWNER else with_role(db, org, role)
    at = open_entries(open_app, actor)
    assert shown(at, "info") == ["No price entries yet. Add the first one above."]

    at.text_input(key="entry_symbol").input("BTC")
    at.text_input(key="entry_price").input(EXACT)
    at.button(key="entry_add_submit").click().run()

    assert shown(at, "success") == [f"Added BTC at {EXACT}."]
    assert column(at, "Coin") == ["BTC"]
    assert column(at, "Price") == [EXACT]
    (stored,) = price_entries.list_entries(owner, db, org.id).items
    assert stored.price == Decimal(EXACT)


def test_a_bad_price_is_refused_with_the_reason(db: Database, open_app, acme) -> None:
    owner, _ = acme
    at = open_entries(open_app, owner)

    at.text_input(key="entry_symbol").input("BTC")
    at.text_input(key="entry_price").input("-3")
    at.button(key="entry_add_submit").click().run()

    assert shown(at, "error") == ["The price must be greater than zero."]
    assert not at.main.dataframe


def test_the_time_is_picked_and_shown_in_the_viewers_zone(
    db: Database, open_app, acme
) -> None:
    owner, org = acme
    at = open_entries(open_app, owner, timezone="Europe/Paris")

    at.text_input(key="entry_symbol").input("ETH")
    at.text_input(key="entry_price").input("3000")
    at.datetime_input(key="entry_time").set_value(datetime(2024, 7, 1, 14, 30))
    at.button(key="entry_add_submit").click().run()

    assert column(at, "Time (Europe/Paris)") == ["2024-07-01 14:30:00"]
    (stored,) = price_entries.list_entries(owner, db, org.id).items
    assert stored.timestamp == datetime(2024, 7, 1, 12, 30, tzinfo=UTC)


def test_entries_are_paged_and_ordered_by_exact_price(
    db: Database, open_app, acme
) -> None:
    owner, org = acme
    for number in range(1, 26):
        price_entries.create_entry(owner, db, org.id, "BTC", f"{number}.5")
    at = open_entries(open_app, owner)

    at.selectbox(key="entry_order").select("Highest price first").run()
    assert column(at, "Price")[:3] == ["25.5", "24.5", "23.5"]
    assert len(column(at, "Price")) == 20
    at.get("pagination")[0].set_value(2).run()

    assert column(at, "Price") == ["5.5", "4.5", "3.5", "2.5", "1.5"]
    assert shown(at, "caption")[-1] == "25 entries in all, page 2 of 2."


def test_changing_the_order_goes_back_to_the_first_page(
    db: Database, open_app, acme
) -> None:
    owner, org = acme
    for number in range(1, 26):
        price_entries.create_entry(owner, db, org.id, "BTC", str(number))
    at = open_entries(open_app, owner)
    at.get("pagination")[0].set_value(2).run()

    at.selectbox(key="entry_order").select("Lowest price first").run()

    assert column(at, "Price")[:2] == ["1", "2"]


def test_deleting_an_entry_asks_first_then_deletes_it(
    db: Database, open_app, acme
) -> None:
    owner, org = acme
    keep = price_entries.create_entry(owner, db, org.id, "BTC", "1")
    drop = price_entries.create_entry(owner, db, org.id, "ETH", "2")
    editor = with_role(db, org, Role.EDITOR)
    at = open_entries(open_app, editor)
    at.selectbox(key="entry_delete_pick").select(drop.id)

    at.button(key="entry_delete").click().run()
    assert len(price_entries.list_entries(owner, db, org.id).items) == 2
    at.button(key="entry_delete_confirm").click().run()

    assert shown(at, "success") == [f"Deleted entry #{drop.id} (ETH)."]
    assert column(at, "ID") == [keep.id]


def test_cancelling_a_delete_keeps_the_entry(db: Database, open_app, acme) -> None:
    owner, org = acme
    price_entries.create_entry(owner, db, org.id, "BTC", "1")
    at = open_entries(open_app, owner)
    at.button(key="entry_delete").click().run()

    at.button(key="entry_delete_cancel").click().run()

    assert "entry_delete_confirm" not in keys(at)
    assert column(at, "Coin") == ["BTC"]


def test_an_editor_demoted_to_viewer_loses_the_controls_on_the_next_run(
    db: Database, open_app, acme
) -> None:
    owner, org = acme
    editor = with_role(db, org, Role.EDITOR)
    at = open_entries(open_app, editor)
    assert EDIT_KEYS - {"entry_delete"} <= keys(at)

    members.change_role(owner, db, org.id, editor.user_id, Role.VIEWER)
    at.run()

    assert not keys(at) & EDIT_KEYS
