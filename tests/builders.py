"""Builders shared by the tests: users, organizations and principals."""

from __future__ import annotations

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Role
from crypto_dash.services import members, organizations, users
from crypto_dash.services.principal import Principal

SYSTEM = Principal.system()
PASSWORD = "correct horse"
FAST_ROUNDS = 4


def make_user(db: Database, username: str, *, admin: bool = False) -> Principal:
    """Create an account and return the principal it signs in as."""
    view = users.create_user(
        SYSTEM, db, username, PASSWORD, is_admin=admin, rounds=FAST_ROUNDS
    )
    return Principal(user_id=view.id, username=view.username, is_admin=admin)


def make_org(
    db: Database, name: str, owner: Principal
) -> organizations.OrganizationView:
    return organizations.create_organization(owner, db, name)


def join(db: Database, org_id: object, user: Principal, role: Role) -> None:
    members.add_member(SYSTEM, db, org_id, user.username, role)
