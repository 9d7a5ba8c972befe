"""The members page: everyone sees the members; only owners change them."""

from __future__ import annotations

import pytest

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Role
from crypto_dash.services import members
from tests.builders import join, make_org, make_user
from tests.e2e.apptest_support import column, keys, open_app, shown

__all__ = ["open_app"]

EDIT_KEYS = {
    "member_add_submit",
    "member_change_submit",
    "member_remove",
    "member_add_username",
}


def open_members(open_app, principal):
    at = open_app(principal)
    return at.switch_page("pages/members.py").run()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_viewers_and_editors_see_the_members_but_no_controls(
    db: Database, open_app, role: Role
) -> None:
    owner = make_user(db, "olga")
    member = make_user(db, "mia")
    org = make_org(db, "Acme", owner)
    join(db, org.id, member, role)

    at = open_members(open_app, member)

    assert column(at, "User") == ["olga", "mia"]
    assert column(at, "Role") == ["owner", role.value]
    assert not keys(at) & EDIT_KEYS
    assert shown(at, "caption") == [
        "Only the organization's owners can add, re-role or remove members."
    ]


def test_the_owner_adds_an_existing_user_with_a_role(db: Database, open_app) -> None:
    owner = make_user(db, "olga")
    make_user(db, "Bob")
    org = make_org(db, "Acme", owner)
    at = open_members(open_app, owner)

    at.text_input(key="member_add_username").input("bob")
    at.selectbox(key="member_add_role").select("editor")
    at.button(key="member_add_submit").click().run()

    assert shown(at, "success") == ["Added Bob as editor."]
    assert column(at, "User") == ["olga", "Bob"]
    assert [(m.username, m.role) for m in members.list_members(owner, db, org.id)] == [
        ("olga", Role.OWNER),
        ("Bob", Role.EDITOR),
    ]


def test_adding_someone_who_has_no_account_says_so(db: Database, open_app) -> None:
    owner = make_user(db, "olga")
    make_org(db, "Acme", owner)
    at = open_members(open_app, owner)

    at.text_input(key="member_add_username").input("ghost")
    at.button(key="member_add_submit").click().run()

    assert shown(at, "error") == ["There is no user 'ghost'."]
    assert column(at, "User") == ["olga"]


def test_the_owner_changes_a_members_role(db: Database, open_app) -> None:
    owner = make_user(db, "olga")
    bob = make_user(db, "bob")
    org = make_org(db, "Acme", owner)
    join(db, org.id, bob, Role.VIEWER)
    at = open_members(open_app, owner)

    at.selectbox(key="member_pick").select(bob.user_id)
    at.selectbox(key="member_new_role").select("editor")
    at.button(key="member_change_submit").click().run()

    assert shown(at, "success") == ["bob is now editor."]
    assert column(at, "Role") == ["owner", "editor"]


def test_the_last_owner_cannot_step_down(db: Database, open_app) -> None:
    owner = make_user(db, "olga")
    make_org(db, "Acme", owner)
    at = open_members(open_app, owner)

    at.selectbox(key="member_pick").select(owner.user_id)
    at.selectbox(key="member_new_role").select("viewer")
    at.button(key="member_change_submit").click().run()

    assert shown(at, "error") == [
        "An organization needs an owner: make someone else owner first."
    ]
    assert column(at, "Role") == ["owner"]


def test_removing_a_member_asks_first_then_removes_them(db: Database, open_app) -> None:
    owner = make_user(db, "olga")
    bob = make_user(db, "bob")
    org = make_org(db, "Acme", owner)
    join(db, org.id, bob, Role.EDITOR)
    at = open_members(open_app, owner)
    at.selectbox(key="member_pick").select(bob.user_id)

    at.button(key="member_remove").click().run()
    assert len(members.list_members(owner, db, org.id)) == 2
    at.button(key="member_remove_confirm").click().run()

    assert shown(at, "success") == ["Removed bob."]
    assert column(at, "User") == ["olga"]


def test_cancelling_the_removal_keeps_the_member(db: Database, open_app) -> None:
    owner = make_user(db, "olga")
    bob = make_user(db, "bob")
    org = make_org(db, "Acme", owner)
    join(db, org.id, bob, Role.EDITOR)
    at = open_members(open_app, owner)
    at.selectbox(key="member_pick").select(bob.user_id)
    at.button(key="member_remove").click().run()

    at.button(key="member_remove_cancel").click().run()

    assert "member_remove_confirm" not in keys(at)
    assert column(at, "User") == ["olga", "bob"]


def test_an_admin_outside_the_organization_manages_its_members(
    db: Database, open_app
) -> None:
    admin = make_user(db, "root", admin=True)
    owner = make_user(db, "olga")
    make_user(db, "bob")
    make_org(db, "Acme", owner)
    at = open_members(open_app, admin)

    at.text_input(key="member_add_username").input("bob")
    at.button(key="member_add_submit").click().run()

    assert shown(at, "success") == ["Added bob as viewer."]
