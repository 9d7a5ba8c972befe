"""Which pages each role gets, the organization switcher, and ending a session."""

from __future__ import annotations

import pytest

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Role
from crypto_dash.services import members, organizations, users
from tests.builders import SYSTEM, join, make_org, make_user
from tests.e2e.apptest_support import ALL_PAGES, open_app, pages_offered, shown

__all__ = ["open_app"]

ORG_PAGES = [
    "pages/organizations.py",
    "pages/dashboard.py",
    "pages/watchlist.py",
    "pages/history.py",
    "pages/members.py",
    "pages/price_entries.py",
]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.OWNER])
def test_a_member_of_any_role_gets_the_organization_pages_and_no_admin_pages(
    db: Database, open_app, role: Role
) -> None:
    owner = make_user(db, "olga")
    member = make_user(db, "mia")
    org = make_org(db, "Acme", owner)
    if role != Role.OWNER:
        join(db, org.id, member, role)
    else:
        member = owner

    at = open_app(member)

    assert not at.exception
    assert pages_offered(at) == ORG_PAGES


def test_a_signed_in_user_in_no_organization_gets_only_the_organizations_page(
    db: Database, open_app
) -> None:
    loner = make_user(db, "nobody")

    at = open_app(loner)

    assert pages_offered(at) == ["pages/organizations.py"]
    assert at.sidebar.selectbox.len == 0


def test_an_administrator_gets_every_page(db: Database, open_app) -> None:
    admin = make_user(db, "root", admin=True)
    make_org(db, "Acme", make_user(db, "olga"))

    at = open_app(admin)

    assert pages_offered(at) == list(ALL_PAGES)


def test_before_sign_in_no_dashboard_page_exists(db: Database, open_app) -> None:
    make_user(db, "olga")

    at = open_app(None)

    for page in ALL_PAGES:
        with pytest.raises(ValueError):
            at.switch_page(page)


def test_a_user_in_two_organizations_switches_and_the_choice_survives_reruns(
    db: Database, open_app
) -> None:
    alice = make_user(db, "alice")
    make_org(db, "Acme", alice)
    beta = make_org(db, "Beta", alice)
    at = open_app(alice)
    at.switch_page("pages/price_entries.py").run()
    assert at.title[0].value == "Price entries of Acme"

    at.sidebar.selectbox(key="org_selector").select(str(beta.id)).run()
    at.run()

    assert at.title[0].value == "Price entries of Beta"
    at.switch_page("pages/members.py").run()
    assert at.title[0].value == "Members of Beta"


def test_the_sidebar_offers_each_organization_with_the_users_role(
    db: Database, open_app
) -> None:
    alice = make_user(db, "alice")
    bob = make_user(db, "bob")
    make_org(db, "Acme", alice)
    join(db, make_org(db, "Beta", bob).id, alice, Role.VIEWER)

    at = open_app(alice)

    selector = at.sidebar.selectbox(key="org_selector")
    assert selector.options == ["Acme (owner)", "Beta (viewer)"]


def test_the_choice_falls_back_to_another_organization_when_its_own_is_deleted(
    db: Database, open_app
) -> None:
    alice = make_user(db, "alice")
    make_org(db, "Acme", alice)
    beta = make_org(db, "Beta", alice)
    at = open_app(alice)
    at.sidebar.selectbox(key="org_selector").select(str(beta.id)).run()

    organizations.delete_organization(alice, db, beta.id)
    at.run()

    assert at.sidebar.selectbox(key="org_selector").options == ["Acme (owner)"]
    assert at.title[0].value == "Dashboard of Acme"
    assert not at.exception


def test_losing_the_last_membership_removes_the_organization_pages(
    db: Database, open_app
) -> None:
    owner = make_user(db, "olga")
    mia = make_user(db, "mia")
    org = make_org(db, "Acme", owner)
    join(db, org.id, mia, Role.EDITOR)
    at = open_app(mia)
    assert pages_offered(at) == ORG_PAGES

    members.remove_member(owner, db, org.id, mia.user_id)
    at.run()

    assert pages_offered(at) == ["pages/organizations.py"]


def test_a_disabled_account_is_signed_out_on_its_next_click(
    db: Database, open_app
) -> None:
    mia = make_user(db, "mia")
    make_org(db, "Acme", mia)
    at = open_app(mia)

    users.set_active(SYSTEM, db, mia.user_id, False)
    at.run()

    assert "principal" not in at.session_state
    assert "Your account is disabled or no longer exists." in shown(at, "info")
    with pytest.raises(ValueError):
        at.switch_page("pages/organizations.py")


def test_sign_out_clears_the_session_and_leaves_only_the_sign_in_page(
    db: Database, open_app
) -> None:
    mia = make_user(db, "mia")
    make_org(db, "Acme", mia)
    at = open_app(mia)

    at.button(key="sign_out").click().run()

    assert "principal" not in at.session_state
    assert "frame" not in at.session_state
    assert "You are signed out." in shown(at, "info")
    with pytest.raises(ValueError):
        at.switch_page("pages/organizations.py")
