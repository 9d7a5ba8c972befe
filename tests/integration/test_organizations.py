"""Organizations: search, filters, ordering, pages, deletion and the audit trail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from crypto_dash.db.models import AuditEvent, Membership, PriceEntry, Role, User
from crypto_dash.errors import NotFound, PermissionDenied, ValidationError
from crypto_dash.services import members, organizations, price_entries
from crypto_dash.services.pagination import PageRequest
from tests.builders import join, make_org, make_user


def test_search_is_case_insensitive_and_shows_only_my_organizations(db):
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    make_org(db, "Acme Trading", alice)
    make_org(db, "Blue Acme", alice)
    make_org(db, "ACME Labs", bob)

    found = organizations.list_organizations(alice, db, search="acme")

    assert sorted(o.name for o in found.items) == ["Acme Trading", "Blue Acme"]
    assert found.total == 2


def test_search_treats_wildcards_as_plain_text(db):
    alice = make_user(db, "alice")
    make_org(db, "100% Crypto", alice)
    make_org(db, "Other", alice)

    found = organizations.list_organizations(alice, db, search="%")

    assert [o.name for o in found.items] == ["100% Crypto"]


def test_role_filter_returns_only_organizations_where_i_hold_that_role(db):
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    make_org(db, "Mine", alice)
    theirs = make_org(db, "Theirs", bob)
    join(db, theirs.id, alice, Role.VIEWER)

    owned = organizations.list_organizations(alice, db, role="owner")
    viewing = organizations.list_organizations(alice, db, role=Role.VIEWER)

    assert [o.name for o in owned.items] == ["Mine"]
    assert [(o.name, o.my_role) for o in viewing.items] == [("Theirs", Role.VIEWER)]


def test_created_between_filters_by_creation_time(db):
    alice = make_user(db, "alice")
    make_org(db, "Early", alice)
    now = datetime.now(UTC)

    inside = organizations.list_organizations(
        alice, db, created_from=now - timedelta(hours=1), created_to=now + timedelta(1)
    )
    outside = organizations.list_organizations(
        alice, db, created_from=now + timedelta(hours=1)
    )

    assert [o.name for o in inside.items] == ["Early"]
    assert outside.items == [] and outside.total == 0


def test_pages_and_ordering_walk_the_whole_list_once(db):
    alice = make_user(db, "alice")
    names = [f"Org {i:02d}" for i in range(7)]
    for name in reversed(names):
        make_org(db, name, alice)

    first = organizations.list_organizations(
        alice, db, PageRequest(page=1, size=3), ordering="-name"
    )
    rest = [
        organizations.list_organizations(
            alice, db, PageRequest(page=p, size=3), ordering="-name"
        )
        for p in (2, 3)
    ]

    seen = [o.name for page in [first, *rest] for o in page.items]
    assert seen == sorted(names, reverse=True)
    assert first.total == 7 and first.pages == 3
    assert first.has_next and not rest[-1].has_next


def test_deleting_an_organization_takes_its_entries_members_and_nothing_else(db):
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    doomed = make_org(db, "Doomed", alice)
    kept = make_org(db, "Kept", alice)
    join(db, doomed.id, bob, Role.EDITOR)
    price_entries.create_entry(alice, db, doomed.id, "BTC", "1.5")
    survivor = price_entries.create_entry(alice, db, kept.id, "BTC", "2.5")

    impact = organizations.delete_organization(alice, db, doomed.id)

    assert (impact.members, impact.price_entries) == (2, 1)
    with pytest.raises(NotFound):
        organizations.get_organization(alice, db, doomed.id)
    with db.read_session() as session:
        left = session.scalars(sa.select(PriceEntry.id)).all()
        memberships = session.scalar(
            sa.select(sa.func.count()).where(Membership.organization_id == doomed.id)
        )
    assert left == [survivor.id]
    assert memberships == 0


def test_every_organization_and_membership_change_is_audited(db, caplog):
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    caplog.set_level("INFO", logger="crypto_dash.services.audit")

    org = make_org(db, "Acme", alice)
    organizations.rename_organization(alice, db, org.id, "Acme Two")
    members.add_member(alice, db, org.id, "bob", "viewer")
    members.change_role(alice, db, org.id, bob.user_id, "editor")
    members.remove_member(alice, db, org.id, bob.user_id)
    organizations.delete_organization(alice, db, org.id)

    with db.read_session() as session:
        events = session.execute(
            sa.select(AuditEvent.actor_name, AuditEvent.action).order_by(AuditEvent.id)
        ).all()
    actions = [action for actor, action in events if actor == "alice"]
    assert actions == [
        "organization.created",
        "organization.renamed",
        "member.added",
        "member.role_changed",
        "member.removed",
        "organization.deleted",
    ]
    logged = [r.getMessage() for r in caplog.records]
    assert sum("organization.deleted" in line for line in logged) == 1


def test_an_organization_always_keeps_an_owner(db):
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    org = make_org(db, "Acme", alice)
    join(db, org.id, bob, Role.EDITOR)

    with pytest.raises(ValidationError, match="owner"):
        members.change_role(alice, db, org.id, alice.user_id, "editor")
    with pytest.raises(ValidationError, match="owner"):
        members.remove_member(alice, db, org.id, alice.user_id)
    members.change_role(alice, db, org.id, bob.user_id, "owner")
    members.remove_member(bob, db, org.id, alice.user_id)

    left = members.list_members(bob, db, org.id)
    assert [(m.username, m.role) for m in left] == [("bob", Role.OWNER)]


def test_a_role_change_counts_on_the_members_next_call(db):
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    org = make_org(db, "Acme", alice)
    join(db, org.id, bob, Role.EDITOR)

    members.remove_member(alice, db, org.id, bob.user_id)

    with pytest.raises(NotFound):
        price_entries.create_entry(bob, db, org.id, "BTC", "10")


def test_another_organizations_id_answers_like_a_missing_one(db):
    alice, mallory = make_user(db, "alice"), make_user(db, "mallory")
    org = make_org(db, "Acme", alice)
    entry = price_entries.create_entry(alice, db, org.id, "BTC", "10")
    make_org(db, "Acme Labs", mallory)

    with pytest.raises(NotFound) as theirs:
        organizations.get_organization(mallory, db, org.id)
    with pytest.raises(NotFound) as missing:
        organizations.get_organization(mallory, db, uuid.uuid4())
    with pytest.raises(NotFound) as entry_theirs:
        price_entries.delete_entry(mallory, db, entry.id)
    with pytest.raises(NotFound) as entry_missing:
        price_entries.delete_entry(mallory, db, entry.id + 1000)

    assert theirs.value.message == missing.value.message
    assert entry_theirs.value.message == entry_missing.value.message
    assert price_entries.get_entry(alice, db, entry.id).price_text == "10"


def test_adding_and_deleting_a_price_entry_is_audited_with_its_exact_price(db):
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)

    entry = price_entries.create_entry(alice, db, org.id, "BTC", "65000.1234567890")
    price_entries.delete_entry(alice, db, entry.id)

    with db.read_session() as session:
        rows = session.execute(
            sa.select(AuditEvent.action, AuditEvent.object_id, AuditEvent.details)
            .where(AuditEvent.object_type == "price_entry")
            .order_by(AuditEvent.id)
        ).all()
    assert [(action, oid) for action, oid, _ in rows] == [
        ("price_entry.created", str(entry.id)),
        ("price_entry.deleted", str(entry.id)),
    ]
    assert all('"65000.1234567890"' in details for *_, details in rows)


def test_being_added_to_an_organization_keeps_a_users_tokens_but_removal_ends_them(
    db,
):
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", alice)
    bob = make_user(db, "bob")
    with db.read_session() as session:
        before = session.get(User, bob.user_id).token_version

    members.add_member(alice, db, org.id, "bob", "viewer")
    with db.read_session() as session:
        after_add = session.get(User, bob.user_id).token_version
    members.remove_member(alice, db, org.id, bob.user_id)
    with db.read_session() as session:
        after_remove = session.get(User, bob.user_id).token_version

    assert after_add == before
    assert after_remove == before + 1


def test_two_owners_demoting_each_other_at_once_leave_one_owner(db):
    import threading

    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    org = make_org(db, "Acme", alice)
    join(db, org.id, bob, Role.OWNER)
    barrier, outcomes = threading.Barrier(2), []

    def demote(actor, target):
        barrier.wait()
        try:
            members.change_role(actor, db, org.id, target.user_id, "editor")
            outcomes.append("done")
        except (ValidationError, PermissionDenied):
            outcomes.append("refused")  # the last owner, or no longer an owner

    threads = [
        threading.Thread(target=demote, args=(alice, bob)),
        threading.Thread(target=demote, args=(bob, alice)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    left = [m for m in members.list_members(alice, db, org.id) if m.role == Role.OWNER]
    assert len(left) == 1
    assert sorted(outcomes) == ["done", "refused"]


def test_an_audit_line_is_logged_only_when_its_change_commits(db, caplog):
    from crypto_dash.services import audit

    alice = make_user(db, "alice")
    caplog.set_level("INFO", logger="crypto_dash.services.audit")

    with pytest.raises(RuntimeError), db.session() as session:
        audit.record(session, alice, "test.rolled_back", object_type="t", object_id=1)
        raise RuntimeError("the change failed after the audit event was added")
    with db.session() as session:
        audit.record(session, alice, "test.committed", object_type="t", object_id=2)

    logged = caplog.text
    assert "test.rolled_back" not in logged
    assert logged.count("test.committed") == 1
