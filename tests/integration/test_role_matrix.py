"""Every cell of the role table in DESIGN.md, on both databases.

Each action is tried by a viewer, an editor, an owner, an administrator who is
not a member, and a signed-in user of another organization. The outsider must
be told "not found", exactly as for an organization that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Role
from crypto_dash.errors import NotFound, PermissionDenied
from crypto_dash.services import audit, members, organizations, price_entries, users
from crypto_dash.services.pagination import PageRequest
from crypto_dash.services.principal import Principal
from tests.builders import FAST_ROUNDS, PASSWORD, join, make_org, make_user

ALLOWED, DENIED, HIDDEN = "allowed", "denied", "hidden"
ACTORS = ("viewer", "editor", "owner", "admin", "outsider")


@dataclass
class World:
    db: Database
    org_id: uuid.UUID
    entry_id: int
    actors: dict[str, Principal]
    spare: Principal


@pytest.fixture
def world(db: Database) -> World:
    owner = make_user(db, "olga")
    org = make_org(db, "Acme", owner)
    viewer, editor = make_user(db, "vera"), make_user(db, "eddie")
    join(db, org.id, viewer, Role.VIEWER)
    join(db, org.id, editor, Role.EDITOR)
    admin = make_user(db, "ada", admin=True)
    outsider = make_user(db, "otto")
    make_org(db, "Acme Labs", outsider)
    spare = make_user(db, "sam")
    join(db, org.id, spare, Role.VIEWER)
    entry = price_entries.create_entry(owner, db, org.id, "BTC", "65000.1")
    actors = dict(
        viewer=viewer, editor=editor, owner=owner, admin=admin, outsider=outsider
    )
    return World(db, org.id, entry.id, actors, spare)


Action = Callable[[Principal, World], object]

ACTIONS: dict[str, tuple[Action, dict[str, str]]] = {
    "see the organization": (
        lambda p, w: organizations.get_organization(p, w.db, w.org_id),
        dict(viewer=ALLOWED, editor=ALLOWED, owner=ALLOWED, admin=ALLOWED),
    ),
    "list its members": (
        lambda p, w: members.list_members(p, w.db, w.org_id),
        dict(viewer=ALLOWED, editor=ALLOWED, owner=ALLOWED, admin=ALLOWED),
    ),
    "list its price entries": (
        lambda p, w: price_entries.list_entries(p, w.db, w.org_id),
        dict(viewer=ALLOWED, editor=ALLOWED, owner=ALLOWED, admin=ALLOWED),
    ),
    "add a price entry": (
        lambda p, w: price_entries.create_entry(p, w.db, w.org_id, "ETH", "3000.5"),
        dict(viewer=DENIED, editor=ALLOWED, owner=ALLOWED, admin=ALLOWED),
    ),
    "delete a price entry": (
        lambda p, w: price_entries.delete_entry(p, w.db, w.entry_id),
        dict(viewer=DENIED, editor=ALLOWED, owner=ALLOWED, admin=ALLOWED),
    ),
    "rename the organization": (
        lambda p, w: organizations.rename_organization(p, w.db, w.org_id, "Acme 2"),
        dict(viewer=DENIED, editor=DENIED, owner=ALLOWED, admin=ALLOWED),
    ),
    "delete the organization": (
        lambda p, w: organizations.delete_organization(p, w.db, w.org_id),
        dict(viewer=DENIED, editor=DENIED, owner=ALLOWED, admin=ALLOWED),
    ),
    "add a member": (
        lambda p, w: members.add_member(p, w.db, w.org_id, "newbie", Role.VIEWER),
        dict(viewer=DENIED, editor=DENIED, owner=ALLOWED, admin=ALLOWED),
    ),
    "change a member's role": (
        lambda p, w: members.change_role(p, w.db, w.org_id, w.spare.user_id, "editor"),
        dict(viewer=DENIED, editor=DENIED, owner=ALLOWED, admin=ALLOWED),
    ),
    "remove a member": (
        lambda p, w: members.remove_member(p, w.db, w.org_id, w.spare.user_id),
        dict(viewer=DENIED, editor=DENIED, owner=ALLOWED, admin=ALLOWED),
    ),
    "create a user": (
        lambda p, w: users.create_user(p, w.db, "zed", PASSWORD, rounds=FAST_ROUNDS),
        dict(
            viewer=DENIED, editor=DENIED, owner=DENIED, admin=ALLOWED, outsider=DENIED
        ),
    ),
    "read the audit log": (
        lambda p, w: audit.list_events(p, w.db, PageRequest()),
        dict(
            viewer=DENIED, editor=DENIED, owner=DENIED, admin=ALLOWED, outsider=DENIED
        ),
    ),
}

CASES = [
    (action, actor, expected.get(actor, HIDDEN))
    for action, (_, expected) in ACTIONS.items()
    for actor in ACTORS
]


@pytest.mark.parametrize(("action", "actor", "expected"), CASES)
def test_the_role_table_holds_for_every_action(world, action, actor, expected):
    if action == "add a member":
        users.create_user(
            Principal.system(), world.db, "newbie", PASSWORD, rounds=FAST_ROUNDS
        )
    run, _ = ACTIONS[action]
    principal = world.actors[actor]

    if expected == ALLOWED:
        run(principal, world)
    elif expected == DENIED:
        with pytest.raises(PermissionDenied):
            run(principal, world)
    else:
        with pytest.raises(NotFound) as raised:
            run(principal, world)
        assert "No such" in raised.value.message


def test_any_signed_in_user_can_create_an_organization_and_owns_it(db):
    newcomer = make_user(db, "nina")

    org = organizations.create_organization(newcomer, db, "Nina's Desk")

    assert org.my_role == Role.OWNER
    listed = organizations.list_organizations(newcomer, db)
    assert [o.name for o in listed.items] == ["Nina's Desk"]
