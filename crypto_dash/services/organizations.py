"""Organizations: create, rename, delete, get and list, with their audit trail."""

from __future__ import annotations

import logging
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, delete, func, null, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto_dash.db.engine import Database
from crypto_dash.db.models import (
    Membership,
    Organization,
    PriceEntry,
    Role,
    User,
    WatchlistItem,
)
from crypto_dash.errors import NotFound, PermissionDenied, ValidationError
from crypto_dash.services import audit
from crypto_dash.services.pagination import Page, PageRequest
from crypto_dash.services.principal import (
    Principal,
    acting_user,
    is_admin,
    require_role,
    role_in,
)

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200


class OrgOrdering(StrEnum):
    NAME = "name"
    NAME_DESC = "-name"
    CREATED = "created_at"
    CREATED_DESC = "-created_at"


@dataclass(frozen=True)
class OrganizationView:
    id: uuid.UUID
    name: str
    created_at: datetime
    my_role: Role | None
    member_count: int = 0


@dataclass(frozen=True)
class DeletionImpact:
    """What goes with an organization when it is deleted."""

    name: str
    members: int
    price_entries: int
    watchlist_coins: int


def clean_name(raw: object, field: str = "name") -> str:
    """Validate an organization name and return it trimmed."""
    if not isinstance(raw, str):
        raise ValidationError.for_field(field, "The name must be text.")
    name = " ".join(raw.split())
    if not name:
        raise ValidationError.for_field(field, "The name cannot be blank.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError.for_field(
            field, f"The name can have at most {MAX_NAME_LENGTH} characters."
        )
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise ValidationError.for_field(
            field, "The name cannot hold control characters."
        )
    return name


def _name_key(name: str) -> str:
    return name.casefold()


def _duplicate(name: str) -> ValidationError:
    return ValidationError.for_field(
        "name", f"An organization named {name!r} already exists; choose another name."
    )


def _load(session: Session, org_id: uuid.UUID | str) -> Organization:
    org = session.get(Organization, _as_uuid(org_id))
    if org is None:
        raise NotFound("No such organization.")
    return org


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("No such organization.") from None


def _name_taken(
    session: Session, name: str, except_id: uuid.UUID | None = None
) -> bool:
    query = select(Organization.id).where(Organization.name_key == _name_key(name))
    if except_id is not None:
        query = query.where(Organization.id != except_id)
    return session.scalar(query) is not None


def create_organization(
    actor: Principal, db: Database, name: str, *, owner_id: int | None = None
) -> OrganizationView:
    """Create an organization; the creator (or, for admins, ``owner_id``) owns it."""
    name = clean_name(name)
    with db.session() as session:
        user = acting_user(session, actor)
        if owner_id is not None and owner_id != actor.user_id:
            if not is_admin(session, actor):
                raise PermissionDenied("Only an administrator can pick another owner.")
            owner = session.get(User, owner_id)
        else:
            owner = user
        if owner is None:
            raise ValidationError.for_field("owner", "An organization needs an owner.")
        if _name_taken(session, name):
            raise _duplicate(name)
        org = Organization(name=name, name_key=_name_key(name))
        session.add(org)
        try:
            session.flush()
        except IntegrityError:
            raise _duplicate(name) from None
        session.add(
            Membership(organization_id=org.id, user_id=owner.id, role=Role.OWNER)
        )
        audit.record(
            session,
            actor,
            "organization.created",
            object_type="organization",
            object_id=org.id,
            organization_id=org.id,
            organization_name=name,
            owner=owner.username,
        )
        my_role = Role.OWNER if owner is user else None
        return OrganizationView(org.id, org.name, org.created_at, my_role, 1)


def rename_organization(
    actor: Principal, db: Database, org_id: uuid.UUID | str, new_name: str
) -> OrganizationView:
    """Rename an organization (owners and administrators)."""
    new_name = clean_name(new_name)
    with db.session() as session:
        org = _load(session, org_id)
        role = require_role(
            session, actor, org.id, Role.OWNER, "rename the organization"
        )
        if _name_taken(session, new_name, except_id=org.id):
            raise _duplicate(new_name)
        old_name = org.name
        org.name, org.name_key = new_name, _name_key(new_name)
        audit.record(
            session,
            actor,
            "organization.renamed",
            object_type="organization",
            object_id=org.id,
            organization_id=org.id,
            organization_name=new_name,
            old_name=old_name,
        )
        return OrganizationView(org.id, org.name, org.created_at, role)


def deletion_impact(
    actor: Principal, db: Database, org_id: uuid.UUID | str
) -> DeletionImpact:
    """Say what deleting the organization would remove, for the confirmation."""
    with db.read_session() as session:
        org = _load(session, org_id)
        require_role(session, actor, org.id, Role.OWNER, "delete the organization")
        return _impact(session, org)


def _impact(session: Session, org: Organization) -> DeletionImpact:
    def count(model: type[Membership | PriceEntry | WatchlistItem]) -> int:
        query = select(func.count()).where(model.organization_id == org.id)
        return session.scalar(query) or 0

    return DeletionImpact(
        org.name, count(Membership), count(PriceEntry), count(WatchlistItem)
    )


def delete_organization(
    actor: Principal, db: Database, org_id: uuid.UUID | str
) -> DeletionImpact:
    """Delete an organization with its members, entries and watchlist."""
    with db.session() as session:
        org = _load(session, org_id)
        require_role(session, actor, org.id, Role.OWNER, "delete the organization")
        impact = _impact(session, org)
        for model in (PriceEntry, WatchlistItem, Membership):
            session.execute(delete(model).where(model.organization_id == org.id))
        session.execute(delete(Organization).where(Organization.id == org.id))
        audit.record(
            session,
            actor,
            "organization.deleted",
            object_type="organization",
            object_id=org.id,
            organization_id=org.id,
            organization_name=org.name,
            members=impact.members,
            price_entries=impact.price_entries,
            watchlist_coins=impact.watchlist_coins,
        )
        return impact


def get_organization(
    actor: Principal, db: Database, org_id: uuid.UUID | str
) -> OrganizationView:
    """Return one organization the caller belongs to (or any, for admins)."""
    with db.read_session() as session:
        org = _load(session, org_id)
        role = require_role(session, actor, org.id, Role.VIEWER, "see it")
        members = session.scalar(
            select(func.count()).where(Membership.organization_id == org.id)
        )
        return OrganizationView(org.id, org.name, org.created_at, role, members or 0)


def list_organizations(
    actor: Principal,
    db: Database,
    page: PageRequest | None = None,
    *,
    search: str | None = None,
    role: Role | str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    ordering: OrgOrdering | str = OrgOrdering.NAME,
    include_all: bool = False,
) -> Page[OrganizationView]:
    """List the caller's organizations with search, filters, order and pages.

    ``include_all`` lets an administrator list every organization.
    """
    page = page or PageRequest()
    ordering = _ordering(ordering)
    role = _role_filter(role)
    with db.read_session() as session:
        everything = include_all and is_admin(session, actor)
        if not everything:
            acting_user(session, actor)
        query = _org_query(actor, everything)
        if search and search.strip():
            query = query.where(
                Organization.name_key.contains(
                    search.strip().casefold(), autoescape=True
                )
            )
        if role is not None:
            query = query.where(Membership.role == role)
        if created_from is not None:
            query = query.where(Organization.created_at >= created_from)
        if created_to is not None:
            query = query.where(Organization.created_at < created_to)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.execute(
            query.order_by(*_order_by(ordering)).offset(page.offset).limit(page.size)
        ).all()
        counts = _member_counts(session, [row[0].id for row in rows])
        items = [
            OrganizationView(
                org.id,
                org.name,
                org.created_at,
                Role(my_role) if my_role else None,
                counts.get(org.id, 0),
            )
            for org, my_role in rows
        ]
    return Page(items=items, total=total, page=page.page, size=page.size)


def _org_query(actor: Principal, everything: bool) -> Select[tuple[Organization, Any]]:
    if everything and actor.user_id is None:
        return select(Organization, null())
    mine = (Membership.organization_id == Organization.id) & (
        Membership.user_id == actor.user_id
    )
    if everything:
        return select(Organization, Membership.role).outerjoin(Membership, mine)
    return select(Organization, Membership.role).join(Membership, mine)


def _member_counts(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(Membership.organization_id, func.count())
        .where(Membership.organization_id.in_(ids))
        .group_by(Membership.organization_id)
    )
    return {org_id: count for org_id, count in rows}


def _ordering(value: OrgOrdering | str) -> OrgOrdering:
    try:
        return OrgOrdering(value)
    except ValueError:
        allowed = ", ".join(o.value for o in OrgOrdering)
        raise ValidationError.for_field(
            "ordering", f"Order by one of {allowed}."
        ) from None


def _role_filter(value: Role | str | None) -> Role | None:
    if value in (None, ""):
        return None
    try:
        return Role(value)
    except ValueError:
        raise ValidationError.for_field(
            "role", "The role must be owner, editor or viewer."
        ) from None


def _order_by(ordering: OrgOrdering) -> tuple[object, ...]:
    column = {
        OrgOrdering.NAME: Organization.name_key.asc(),
        OrgOrdering.NAME_DESC: Organization.name_key.desc(),
        OrgOrdering.CREATED: Organization.created_at.asc(),
        OrgOrdering.CREATED_DESC: Organization.created_at.desc(),
    }[ordering]
    return (column, Organization.id)


__all__ = [
    "DeletionImpact",
    "OrgOrdering",
    "OrganizationView",
    "clean_name",
    "create_organization",
    "delete_organization",
    "deletion_impact",
    "get_organization",
    "list_organizations",
    "rename_organization",
    "role_in",
]
