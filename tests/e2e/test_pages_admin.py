"""The admin pages: accounts and the audit log; refused to everyone else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Role
from crypto_dash.services import audit, organizations, users
from crypto_dash.services.pagination import PageRequest
from crypto_dash.services.principal import Principal
from tests.builders import SYSTEM, join, make_org, make_user
from tests.e2e.apptest_support import column, open_app, shown

__all__ = ["open_app"]


def open_users(open_app, principal):
    return open_app(principal).switch_page("pages/admin_users.py").run()


def open_audit(open_app, principal, **options):
    return open_app(principal, **options).switch_page("pages/admin_audit.py").run()


@pytest.fixture
def admin(db: Database) -> Principal:
    return make_user(db, "root", admin=True)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.OWNER, None])
def test_non_admins_have_no_admin_pages(
    db: Database, open_app, role: Role | None
) -> None:
    owner = make_user(db, "olga")
    org = make_org(db, "Acme", owner)
    user = owner if role == Role.OWNER else make_user(db, "mia")
    if role in (Role.VIEWER, Role.EDITOR):
        join(db, org.id, user, role)
    at = open_app(user)

    for page in ("pages/admin_users.py", "pages/admin_audit.py"):
        with pytest.raises(ValueError):
            at.switch_page(page)


def test_a_withdrawn_admin_still_holding_the_menu_is_refused_by_the_service(
    db: Database, open_app, admin: Principal
) -> None:
    other = make_user(db, "root2", admin=True)
    at = open_users(open_app, admin)
    assert column(at, "User") == ["root", "root2"]

    users.set_admin(other, db, admin.user_id, False)
    at.run()

    assert shown(at, "error") == ["Only an administrator can do that."]
    assert not at.main.dataframe


def test_the_admin_creates_a_user_who_can_then_be_found(
    db: Database, open_app, admin: Principal
) -> None:
    at = open_users(open_app, admin)

    at.text_input(key="user_new_name").input("carol")
    at.text_input(key="user_new_password").input("a long passphrase")
    at.checkbox(key="user_new_admin").check()
    at.button(key="user_create_submit").click().run()

    assert shown(at, "success") == ["Created administrator carol."]
    assert column(at, "User") == ["carol", "root"]
    assert column(at, "Administrator") == ["yes", "yes"]


def test_a_taken_user_name_is_refused(db: Database, open_app, admin: Principal) -> None:
    at = open_users(open_app, admin)

    at.text_input(key="user_new_name").input("ROOT")
    at.text_input(key="user_new_password").input("a long passphrase")
    at.button(key="user_create_submit").click().run()

    assert shown(at, "error") == ["The user name 'ROOT' is taken."]


def test_the_admin_disables_and_enables_an_account(
    db: Database, open_app, admin: Principal
) -> None:
    mia = make_user(db, "mia")
    at = open_users(open_app, admin)
    at.selectbox(key="user_pick").select(mia.user_id).run()

    at.button(key="user_toggle_active").click().run()
    assert shown(at, "success") == ["mia is disabled; their sign-ins end."]
    assert column(at, "Active") == ["disabled", "yes"]
    assert at.button(key="user_toggle_active").label == "Enable mia"

    at.button(key="user_toggle_active").click().run()

    assert shown(at, "success") == ["mia is enabled."]
    assert column(at, "Active") == ["yes", "yes"]


def test_the_admin_cannot_disable_their_own_account(
    db: Database, open_app, admin: Principal
) -> None:
    at = open_users(open_app, admin)
    at.selectbox(key="user_pick").select(admin.user_id).run()

    at.button(key="user_toggle_active").click().run()

    assert shown(at, "error") == ["You cannot disable your own account."]


def test_the_admin_makes_another_user_an_administrator(
    db: Database, open_app, admin: Principal
) -> None:
    mia = make_user(db, "mia")
    at = open_users(open_app, admin)
    at.selectbox(key="user_pick").select(mia.user_id).run()

    at.button(key="user_toggle_admin").click().run()

    assert shown(at, "success") == ["mia is an administrator."]
    assert column(at, "Administrator") == ["yes", "yes"]


def test_the_admin_resets_a_password(db: Database, open_app, admin: Principal) -> None:
    mia = make_user(db, "mia")
    at = open_users(open_app, admin)
    at.selectbox(key="user_pick").select(mia.user_id).run()

    at.text_input(key="user_reset_password").input("another passphrase")
    at.button(key="user_reset_submit").click().run()

    assert shown(at, "success") == ["New password set for mia; their sign-ins end."]
    events = audit.list_events(SYSTEM, db, PageRequest(), action="user.password_reset")
    assert [e.details["username"] for e in events.items] == ["mia"]


def test_a_too_short_password_is_refused_with_the_rule(
    db: Database, open_app, admin: Principal
) -> None:
    mia = make_user(db, "mia")
    at = open_users(open_app, admin)
    at.selectbox(key="user_pick").select(mia.user_id).run()

    at.text_input(key="user_reset_password").input("x")
    at.button(key="user_reset_submit").click().run()

    assert len(shown(at, "error")) == 1
    assert shown(at, "success") == []


def test_the_audit_log_lists_events_newest_first_in_the_viewers_zone(
    db: Database, open_app, admin: Principal
) -> None:
    org = make_org(db, "Acme", admin)
    organizations.rename_organization(admin, db, org.id, "Acme 2")

    at = open_audit(open_app, admin, timezone="Asia/Kolkata")

    assert column(at, "What")[:2] == ["organization.renamed", "organization.created"]
    assert "Time (Asia/Kolkata)" in at.main.dataframe[0].value.columns


def test_the_audit_log_filters_by_who_what_and_organization(
    db: Database, open_app, admin: Principal
) -> None:
    olga = make_user(db, "olga")
    acme = make_org(db, "Acme", olga)
    make_org(db, "Beta", admin)
    organizations.rename_organization(olga, db, acme.id, "Acme Labs")
    at = open_audit(open_app, admin)

    at.text_input(key="audit_who").input("OLGA").run()
    assert column(at, "What") == ["organization.renamed", "organization.created"]
    at.selectbox(key="audit_what").select("organization.created").run()
    assert column(at, "Organization") == ["Acme"]
    at.text_input(key="audit_who").input("").run()
    at.text_input(key="audit_org").input("bet").run()

    assert column(at, "Organization") == ["Beta"]


def test_the_audit_log_filters_by_dates_and_says_when_nothing_matches(
    db: Database, open_app, admin: Principal
) -> None:
    make_org(db, "Acme", admin)
    at = open_audit(open_app, admin)
    today = datetime.now(UTC).date()

    at.date_input(key="audit_from").set_value(today - timedelta(days=1))
    at.date_input(key="audit_to").set_value(today + timedelta(days=1)).run()
    assert "organization.created" in column(at, "What")

    at.date_input(key="audit_from").set_value(today + timedelta(days=2)).run()
    at.date_input(key="audit_to").set_value(today + timedelta(days=3)).run()

    assert shown(at, "info") == [
        "No audit events match these filters. Clear a filter to see more."
    ]


def test_admin_actions_on_the_page_are_audited_under_the_admins_name(
    db: Database, open_app, admin: Principal
) -> None:
    at = open_users(open_app, admin)
    at.text_input(key="user_new_name").input("dave")
    at.text_input(key="user_new_password").input("a long passphrase")
    at.button(key="user_create_submit").click().run()

    at.switch_page("pages/admin_audit.py").run()
    at.selectbox(key="audit_what").select("user.created").run()

    assert column(at, "Who")[0] == "root"
    assert "username: dave" in column(at, "Details")[0]
