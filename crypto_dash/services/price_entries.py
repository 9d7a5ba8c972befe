"""An organization's own price entries: create, list and delete."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Membership, Organization, PriceEntry, Role
from crypto_dash.db.types import format_decimal
from crypto_dash.errors import NotFound, ValidationError
from crypto_dash.services import audit
from crypto_dash.services.organizations import _load
from crypto_dash.services.pagination import Page, PageRequest
from crypto_dash.services.prices_input import parse_price, parse_symbol
from crypto_dash.services.principal import Principal, acting_user, require_role

logger = logging.getLogger(__name__)

FUTURE_SKEW = timedelta(minutes=5)
ORDER_FIELDS = ("id", "price", "timestamp")
MAX_ID = 2**31 - 1  # the id column is a 32-bit integer


@dataclass(frozen=True)
class PriceEntryView:
    id: int
    org_id: uuid.UUID
    symbol: str
    price: Decimal
    timestamp: datetime

    @property
    def price_text(self) -> str:
        return format_decimal(self.price)


def _view(row: PriceEntry) -> PriceEntryView:
    return PriceEntryView(
        row.id, row.organization_id, row.symbol, row.price, row.observed_at
    )


def _parse_time(raw: datetime | None) -> datetime:
    now = datetime.now(UTC)
    if raw is None:
        return now
    if not isinstance(raw, datetime):
        raise ValidationError.for_field(
            "timestamp", "The time must be a date and time."
        )
    value = raw.replace(tzinfo=UTC) if raw.tzinfo is None else raw.astimezone(UTC)
    if value > now + FUTURE_SKEW:
        raise ValidationError.for_field(
            "timestamp", "The time cannot be in the future."
        )
    if value.year < 2009:
        raise ValidationError.for_field(
            "timestamp", "The time is before any crypto price."
        )
    return value


def create_entry(
    actor: Principal,
    db: Database,
    org_id: uuid.UUID | str,
    symbol: str,
    price: object,
    timestamp: datetime | None = None,
) -> PriceEntryView:
    """Record a price for the organization (editors, owners, admins)."""
    symbol = parse_symbol(symbol)
    value = parse_price(price)
    when = _parse_time(timestamp)
    with db.session() as session:
        org = _load(session, org_id)
        require_role(session, actor, org.id, Role.EDITOR, "add price entries")
        row = PriceEntry(
            organization_id=org.id,
            symbol=symbol,
            price=value,
            price_float=float(value),
            observed_at=when,
            created_by=actor.user_id,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor,
            "price_entry.created",
            object_type="price_entry",
            object_id=row.id,
            organization_id=org.id,
            organization_name=org.name,
            symbol=symbol,
            price=format_decimal(value),
        )
        return _view(row)


def delete_entry(actor: Principal, db: Database, entry_id: int) -> None:
    """Delete one of the organization's entries (editors, owners, admins)."""
    with db.session() as session:
        row = _entry_for(session, actor, entry_id, Role.EDITOR, "delete price entries")
        org = session.get(Organization, row.organization_id)
        session.delete(row)
        audit.record(
            session,
            actor,
            "price_entry.deleted",
            object_type="price_entry",
            object_id=row.id,
            organization_id=row.organization_id,
            organization_name=org.name if org else None,
            symbol=row.symbol,
            price=format_decimal(row.price),
        )


def get_entry(actor: Principal, db: Database, entry_id: int) -> PriceEntryView:
    """Return one entry of an organization the caller belongs to."""
    with db.read_session() as session:
        return _view(_entry_for(session, actor, entry_id, Role.VIEWER, "see it"))


def _entry_for(
    session: Session, actor: Principal, entry_id: object, needed: Role, what: str
) -> PriceEntry:
    """Load an entry the caller may act on; another tenant's reads as missing."""
    row = session.get(PriceEntry, _entry_id(entry_id))
    if row is None:
        raise NotFound("No such price entry.")
    try:
        require_role(session, actor, row.organization_id, needed, what)
    except NotFound:
        raise NotFound("No such price entry.") from None
    return row


def _entry_id(raw: object) -> int:
    if isinstance(raw, bool):
        raise NotFound("No such price entry.")
    try:
        value = int(str(raw))
    except ValueError:
        raise NotFound("No such price entry.") from None
    if not 0 < value <= MAX_ID:  # PostgreSQL refuses larger ids with an error
        raise NotFound("No such price entry.")
    return value


def list_entries(
    actor: Principal,
    db: Database,
    org_id: uuid.UUID | str,
    page: PageRequest | None = None,
    ordering: str = "-timestamp",
) -> Page[PriceEntryView]:
    """List the organization's entries, paginated and ordered."""
    with db.read_session() as session:
        org = _load(session, org_id)
        require_role(session, actor, org.id, Role.VIEWER, "see its prices")
        where = PriceEntry.organization_id == org.id
        return _page(session, db.dialect, where, page or PageRequest(), ordering)


def list_my_entries(
    actor: Principal,
    db: Database,
    page: PageRequest | None = None,
    ordering: str = "-timestamp",
) -> Page[PriceEntryView]:
    """List the entries of every organization the caller is a member of."""
    with db.read_session() as session:
        acting_user(session, actor)
        mine = select(Membership.organization_id).where(
            Membership.user_id == actor.user_id
        )
        where = PriceEntry.organization_id.in_(mine)
        return _page(session, db.dialect, where, page or PageRequest(), ordering)


def _page(
    session: Session,
    dialect: str,
    where: ColumnElement[bool],
    page: PageRequest,
    ordering: str,
) -> Page[PriceEntryView]:
    order = _order_by(ordering or "-timestamp", dialect)
    total = session.scalar(select(func.count()).where(where)) or 0
    rows = session.scalars(
        select(PriceEntry)
        .where(where)
        .order_by(*order)
        .offset(page.offset)
        .limit(page.size)
    )
    items = [_view(row) for row in rows]
    return Page(items=items, total=total, page=page.page, size=page.size)


def _order_by(ordering: str, dialect: str) -> list[ColumnElement[object]]:
    descending = ordering.startswith("-")
    name = ordering.lstrip("-")
    if name not in ORDER_FIELDS:
        allowed = ", ".join(ORDER_FIELDS)
        raise ValidationError.for_field(
            "ordering", f"Order by one of {allowed}, with '-' for descending."
        )
    # PostgreSQL orders the exact NUMERIC; SQLite keeps text, so it uses the float.
    price = PriceEntry.price if dialect == "postgresql" else PriceEntry.price_float
    column = {"id": PriceEntry.id, "price": price, "timestamp": PriceEntry.observed_at}[
        name
    ]
    direction = column.desc() if descending else column.asc()
    tie = PriceEntry.id.desc() if descending else PriceEntry.id.asc()
    return [direction, tie]
