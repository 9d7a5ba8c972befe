"""Who is acting, and the role rules every service checks for itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto_dash.db.models import Membership, Role, User
from crypto_dash.errors import NotFound, PermissionDenied, TokenInvalid

RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}


@dataclass(frozen=True)
class Principal:
    """A verified caller: built by the auth service or the CLI, never from a form.

    ``memberships`` is what the caller held when it was verified; the services
    re-read the database on every call, so a role change or a disabled account
    counts on the very next call.
    """

    user_id: int | None
    username: str
    is_admin: bool = False
    token_version: int | None = None
    memberships: dict[uuid.UUID, Role] = field(default_factory=dict)

    @classmethod
    def system(cls) -> Principal:
        """The command line acting on the operator's behalf."""
        return cls(user_id=None, username="system", is_admin=True)

    @property
    def is_system(self) -> bool:
        return self.user_id is None


def acting_user(session: Session, actor: Principal) -> User | None:
    """Load the caller's user row and refuse a disabled or outdated one."""
    if actor.is_system:
        return None
    user = session.get(User, actor.user_id)
    if user is None or not user.is_active:
        raise TokenInvalid("Your account is disabled or no longer exists.")
    if actor.token_version is not None and actor.token_version != user.token_version:
        raise TokenInvalid("Your sign-in has expired; please sign in again.")
    return user


def is_admin(session: Session, actor: Principal) -> bool:
    user = acting_user(session, actor)
    return user is None or user.is_admin


def require_admin(session: Session, actor: Principal) -> None:
    if not is_admin(session, actor):
        raise PermissionDenied("Only an administrator can do that.")


def role_in(session: Session, actor: Principal, org_id: uuid.UUID) -> Role | None:
    """The caller's current role in an organization, or None."""
    if actor.is_system:
        return None
    role = session.scalar(
        select(Membership.role).where(
            Membership.organization_id == org_id, Membership.user_id == actor.user_id
        )
    )
    return Role(role) if role else None


def require_role(
    session: Session, actor: Principal, org_id: uuid.UUID, needed: Role, what: str
) -> Role | None:
    """Check that the caller may act on the organization at ``needed`` level.

    A caller who is not a member learns nothing: the organization is reported
    missing, exactly like one that does not exist.
    """
    if is_admin(session, actor):
        return role_in(session, actor, org_id)
    role = role_in(session, actor, org_id)
    if role is None:
        raise NotFound("No such organization.")
    if RANK[role] < RANK[needed]:
        raise PermissionDenied(f"Your role ({role.value}) cannot {what}.")
    return role
