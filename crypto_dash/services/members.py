"""Members of an organization and their roles; an organization keeps an owner."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Membership, Organization, Role, User
from crypto_dash.errors import NotFound, ValidationError
from crypto_dash.services import audit
from crypto_dash.services.organizations import _load
from crypto_dash.services.principal import Principal, require_role

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemberView:
    user_id: int
    username: str
    role: Role
    joined_at: datetime


def parse_role(raw: object) -> Role:
    try:
        return Role(str(raw).strip().lower())
    except ValueError:
        raise ValidationError.for_field(
            "role", "The role must be owner, editor or viewer."
        ) from None


def _user_by_name(session: Session, username: str) -> User:
    user = session.scalar(
        select(User).where(User.username_key == username.strip().casefold())
    )
    if user is None:
        raise ValidationError.for_field("username", f"There is no user {username!r}.")
    return user


def _membership(session: Session, org_id: uuid.UUID, user_id: int) -> Membership:
    membership = session.scalar(
        select(Membership).where(
            Membership.organization_id == org_id, Membership.user_id == user_id
        )
    )
    if membership is None:
        raise NotFound("That user is not a member of this organization.")
    return membership


def _owners(session: Session, org_id: uuid.UUID) -> int:
    """Count the owners, locking their rows (PostgreSQL) until the commit.

    Two owners demoting each other at once would otherwise both see two owners
    and leave none. SQLite needs no lock: its writes begin IMMEDIATE.
    """
    owners = select(Membership.id).where(
        Membership.organization_id == org_id, Membership.role == Role.OWNER
    )
    return len(session.scalars(owners.with_for_update()).all())


def _revoke_tokens(session: Session, user_id: int) -> None:
    # A role change must count on the user's next request, not when a token expires.
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(token_version=User.token_version + 1)
    )


def list_members(
    actor: Principal, db: Database, org_id: uuid.UUID | str
) -> list[MemberView]:
    """List an organization's members, owners first."""
    with db.read_session() as session:
        org = _load(session, org_id)
        require_role(session, actor, org.id, Role.VIEWER, "see its members")
        rows = session.execute(
            select(User.id, User.username, Membership.role, Membership.created_at)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == org.id)
        ).all()
    order = {Role.OWNER: 0, Role.EDITOR: 1, Role.VIEWER: 2}
    members = [MemberView(uid, name, Role(role), at) for uid, name, role, at in rows]
    return sorted(members, key=lambda m: (order[m.role], m.username.casefold()))


def add_member(
    actor: Principal,
    db: Database,
    org_id: uuid.UUID | str,
    username: str,
    role: Role | str,
) -> MemberView:
    """Add an existing user to the organization with a role (owners only)."""
    role = parse_role(role)
    with db.session() as session:
        org = _load(session, org_id)
        require_role(session, actor, org.id, Role.OWNER, "manage members")
        user = _user_by_name(session, username)
        existing = session.scalar(
            select(Membership.id).where(
                Membership.organization_id == org.id, Membership.user_id == user.id
            )
        )
        if existing is not None:
            raise ValidationError.for_field(
                "username", f"{user.username} is already a member; change their role."
            )
        membership = Membership(organization_id=org.id, user_id=user.id, role=role)
        session.add(membership)
        session.flush()
        # Gaining a role revokes nothing: services re-read roles on every call.
        _record(session, actor, "member.added", org, user, role=role.value)
        return MemberView(user.id, user.username, role, membership.created_at)


def change_role(
    actor: Principal,
    db: Database,
    org_id: uuid.UUID | str,
    user_id: int,
    role: Role | str,
) -> MemberView:
    """Give a member another role; the last owner cannot be demoted."""
    role = parse_role(role)
    with db.session() as session:
        org = _load(session, org_id)
        require_role(session, actor, org.id, Role.OWNER, "manage members")
        membership = _membership(session, org.id, user_id)
        old = Role(membership.role)
        if old == Role.OWNER and role != Role.OWNER and _owners(session, org.id) == 1:
            raise ValidationError.for_field(
                "role", "An organization needs an owner: make someone else owner first."
            )
        membership.role = role
        _revoke_tokens(session, user_id)
        user = session.get(User, user_id)
        assert user is not None
        _record(
            session,
            actor,
            "member.role_changed",
            org,
            user,
            old_role=old.value,
            role=role.value,
        )
        return MemberView(user.id, user.username, role, membership.created_at)


def remove_member(
    actor: Principal, db: Database, org_id: uuid.UUID | str, user_id: int
) -> None:
    """Remove a member; the last owner cannot be removed."""
    with db.session() as session:
        org = _load(session, org_id)
        require_role(session, actor, org.id, Role.OWNER, "manage members")
        membership = _membership(session, org.id, user_id)
        if membership.role == Role.OWNER and _owners(session, org.id) == 1:
            raise ValidationError.for_field(
                "user",
                "The last owner cannot be removed: make someone else owner first.",
            )
        user = session.get(User, user_id)
        assert user is not None
        session.delete(membership)
        _revoke_tokens(session, user_id)
        _record(session, actor, "member.removed", org, user, role=membership.role)


def _record(
    session: Session,
    actor: Principal,
    action: str,
    org: Organization,
    user: User,
    **details: str,
) -> None:
    audit.record(
        session,
        actor,
        action,
        object_type="membership",
        object_id=user.id,
        organization_id=org.id,
        organization_name=org.name,
        member=user.username,
        **details,
    )
