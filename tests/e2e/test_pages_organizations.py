"""The organizations page: list, search, filters, create, rename, delete."""

from __future__ import annotations

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Role
from crypto_dash.services import organizations, price_entries
from tests.builders import join, make_org, make_user
from tests.e2e.apptest_support import column, keys, open_app, shown

__all__ = ["open_app"]

MANAGE_KEYS = {"org_rename_submit", "org_delete"}


def open_orgs(open_app, principal, **options):
    """The organizations page (the dashboard is the start page once one is chosen)."""
    at = open_app(principal, **options)
    return at.switch_page("pages/organizations.py").run()


def test_a_user_in_no_organization_is_told_how_to_get_one(
    db: Database, open_app
) -> None:
    loner = make_user(db, "nobody")

    at = open_orgs(open_app, loner)

    assert shown(at, "info") == [
        "You are not in any organization yet. Create one above, or ask an "
        "organization's owner to add you."
    ]


def test_creating_an_organization_makes_the_creator_its_owner_and_chooses_it(
    db: Database, open_app
) -> None:
    alice = make_user(db, "alice")
    make_org(db, "Acme", alice)
    at = open_orgs(open_app, alice)

    at.text_input(key="org_create_name").input("  Zeta   Labs ")
    at.button(key="org_create_submit").click().run()

    assert shown(at, "success") == ["Created Zeta Labs; you are its owner."]
    assert column(at, "Name") == ["Acme", "Zeta Labs"]
    assert column(at, "Your role") == ["owner", "owner"]
    assert at.sidebar.selectbox(key="org_selector").value == str(
        at.session_state["frame"].org.id
    )
    assert at.session_state["frame"].org.name == "Zeta Labs"


def test_a_taken_name_is_refused_with_the_reason(db: Database, open_app) -> None:
    alice = make_user(db, "alice")
    make_org(db, "Acme", make_user(db, "bob"))
    at = open_orgs(open_app, alice)

    at.text_input(key="org_create_name").input("ACME")
    at.button(key="org_create_submit").click().run()

    assert shown(at, "error") == [
        "An organization named 'ACME' already exists; choose another name."
    ]
    assert shown(at, "success") == []


def test_the_list_shows_only_the_users_organizations_with_role_and_members(
    db: Database, open_app
) -> None:
    alice = make_user(db, "alice")
    bob = make_user(db, "bob")
    make_org(db, "Acme", alice)
    beta = make_org(db, "Beta", bob)
    join(db, beta.id, alice, Role.VIEWER)
    make_org(db, "Hidden", bob)

    at = open_orgs(open_app, alice)

    assert column(at, "Name") == ["Acme", "Beta"]
    assert column(at, "Your role") == ["owner", "viewer"]
    assert column(at, "Members") == [1, 2]


def test_search_role_filter_and_order_narrow_the_list(db: Database, open_app) -> None:
    alice = make_user(db, "alice")
    bob = make_user(db, "bob")
    for name in ("Acme Research", "Acme Trading", "Beta"):
        make_org(db, name, alice)
    join(db, make_org(db, "Acme Viewers", bob).id, alice, Role.VIEWER)
    at = open_orgs(open_app, alice)

    at.text_input(key="org_search").input("acme").run()
    assert column(at, "Name") == [
        "Acme Research",
        "Acme Trading",
        "Acme Viewers",
    ]
    at.selectbox(key="org_role").select("Viewer").run()
    assert column(at, "Name") == ["Acme Viewers"]
    at.selectbox(key="org_role").select("Owner").run()
    at.selectbox(key="org_order").select("Name, Z to A").run()
    assert column(at, "Name") == ["Acme Trading", "Acme Research"]

    at.text_input(key="org_search").input("nothing like this").run()

    assert shown(at, "info") == [
        "No organization matches these filters. Clear the search or dates."
    ]


def test_created_dates_filter_in_the_viewers_zone(db: Database, open_app) -> None:
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)
    at = open_orgs(open_app, alice, timezone="Asia/Tokyo")
    created_local = org.created_at.astimezone(at.session_state["frame"].zone).date()

    at.date_input(key="org_from").set_value(created_local).run()
    assert column(at, "Name") == ["Acme"]
    at.date_input(key="org_to").set_value(created_local).run()
    assert column(at, "Name") == ["Acme"]

    at.date_input(key="org_from").set_value(
        created_local.replace(year=created_local.year + 1)
    ).run()

    assert not at.main.dataframe
    assert shown(at, "info") == [
        "No organization matches these filters. Clear the search or dates."
    ]


def test_times_are_shown_in_the_viewers_zone_and_the_zone_is_named(
    db: Database, open_app
) -> None:
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)

    at = open_orgs(open_app, alice, timezone="America/New_York")

    shown_time = column(at, "Created (America/New_York)")[0]
    expected = org.created_at.astimezone(at.session_state["frame"].zone)
    assert shown_time == expected.strftime("%Y-%m-%d %H:%M:%S")


def test_without_a_browser_zone_times_are_in_utc(db: Database, open_app) -> None:
    alice = make_user(db, "alice")
    make_org(db, "Acme", alice)

    at = open_orgs(open_app, alice)

    assert len(column(at, "Created (UTC)")) == 1


def test_the_owner_renames_the_organization(db: Database, open_app) -> None:
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)
    at = open_orgs(open_app, alice)

    at.text_input(key="org_rename_name").input("Acme Holdings")
    at.button(key="org_rename_submit").click().run()

    assert shown(at, "success") == ["Renamed Acme to Acme Holdings."]
    assert organizations.get_organization(alice, db, org.id).name == "Acme Holdings"
    assert at.sidebar.selectbox(key="org_selector").options == ["Acme Holdings (owner)"]


def test_editors_and_viewers_get_no_rename_or_delete_controls(
    db: Database, open_app
) -> None:
    owner = make_user(db, "olga")
    org = make_org(db, "Acme", owner)
    for name, role in (("ed", Role.EDITOR), ("vi", Role.VIEWER)):
        member = make_user(db, name)
        join(db, org.id, member, role)

        at = open_orgs(open_app, member)

        assert not keys(at) & MANAGE_KEYS
        assert (
            "Only the organization's owners can rename or delete it."
            in (shown(at, "caption")[-1])
        )


def test_delete_asks_first_and_says_what_goes_with_the_organization(
    db: Database, open_app
) -> None:
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)
    join(db, org.id, make_user(db, "bob"), Role.EDITOR)
    price_entries.create_entry(alice, db, org.id, "BTC", "65000.5")
    at = open_orgs(open_app, alice)

    at.button(key="org_delete").click().run()

    assert (
        "Deleting **Acme** also deletes its 2 memberships, 1 price entry and 0 "
        "watchlist coins. This cannot be undone."
    ) in [element.value for element in at.markdown]
    assert organizations.get_organization(alice, db, org.id).name == "Acme"


def test_cancelling_the_delete_keeps_the_organization(db: Database, open_app) -> None:
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)
    at = open_orgs(open_app, alice)
    at.button(key="org_delete").click().run()
    assert "org_delete_confirm" in keys(at)

    at.button(key="org_delete_cancel").click().run()

    assert "org_delete_confirm" not in keys(at)
    assert organizations.get_organization(alice, db, org.id).name == "Acme"


def test_confirming_the_delete_removes_the_organization_and_its_pages(
    db: Database, open_app
) -> None:
    alice = make_user(db, "alice")
    make_org(db, "Acme", alice)
    at = open_orgs(open_app, alice)
    at.button(key="org_delete").click().run()

    at.button(key="org_delete_confirm").click().run()

    assert shown(at, "success") == ["Deleted Acme and everything in it."]
    assert organizations.list_organizations(alice, db).total == 0
    assert at.sidebar.selectbox.len == 0
    assert shown(at, "info")[0].startswith("You are not in any organization yet.")


def test_an_admin_can_list_every_organization_and_manage_one_they_are_not_in(
    db: Database, open_app
) -> None:
    admin = make_user(db, "root", admin=True)
    bob = make_user(db, "bob")
    make_org(db, "Acme", bob)
    make_org(db, "Beta", bob)
    at = open_orgs(open_app, admin)
    assert shown(at, "info")[0].startswith("No organization matches")

    at.toggle(key="org_all").set_value(True).run()

    assert column(at, "Name") == ["Acme", "Beta"]
    assert column(at, "Your role") == ["-", "-"]
    assert keys(at) >= MANAGE_KEYS
