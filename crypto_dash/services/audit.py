"""The audit trail: one function writes the event and its log line."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from crypto_dash.db.engine import Database
from crypto_dash.db.models import AuditEvent
from crypto_dash.services.pagination import Page, PageRequest
from crypto_dash.services.principal import Principal, require_admin

logger = logging.getLogger(__name__)

PENDING = "crypto_dash.audit.pending"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    occurred_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    organization_id: uuid.UUID | None
    organization_name: str | None
    details: dict[str, Any]


def record(
    session: Session,
    actor: Principal,
    action: str,
    *,
    object_type: str,
    object_id: object,
    organization_id: uuid.UUID | None = None,
    organization_name: str | None = None,
    **details: Any,
) -> None:
    """Add an audit event to the caller's transaction; log it once it commits."""
    text = json.dumps(details, default=str, sort_keys=True)
    session.add(
        AuditEvent(
            actor_id=actor.user_id,
            actor_name=actor.username,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            organization_id=organization_id,
            organization_name=organization_name,
            details=text,
        )
    )
    line = (actor.username, action, object_type, object_id, organization_name, text)
    _pending(session).append(line)


def _pending(session: Session) -> list[tuple[object, ...]]:
    """The session's audit lines waiting for the commit (a rollback drops them)."""
    if PENDING not in session.info:
        session.info[PENDING] = []
        event.listen(session, "after_commit", _log_committed)
        event.listen(session, "after_rollback", _drop_pending)
    lines: list[tuple[object, ...]] = session.info[PENDING]
    return lines


def _log_committed(session: Session) -> None:
    lines, session.info[PENDING] = session.info.get(PENDING, []), []
    for user, action, kind, object_id, org, details in lines:
        logger.info(
            "audit: %s %s %s=%s org=%s %s",
            user,
            action,
            kind,
            object_id,
            org or "-",
            details,
        )


def _drop_pending(session: Session) -> None:
    session.info[PENDING] = []


def list_events(
    actor: Principal,
    db: Database,
    page: PageRequest,
    *,
    actor_name: str | None = None,
    action: str | None = None,
    organization: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[AuditEntry]:
    """List audit events, newest first, for administrators."""
    with db.read_session() as session:
        require_admin(session, actor)
        query = select(AuditEvent)
        if actor_name:
            query = query.where(func.lower(AuditEvent.actor_name) == actor_name.lower())
        if action:
            query = query.where(AuditEvent.action == action)
        if organization:
            pattern = f"%{organization.lower()}%"
            query = query.where(func.lower(AuditEvent.organization_name).like(pattern))
        if since:
            query = query.where(AuditEvent.occurred_at >= since)
        if until:
            query = query.where(AuditEvent.occurred_at < until)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(
            query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .offset(page.offset)
            .limit(page.size)
        )
        items = [_entry(row) for row in rows]
    return Page(items=items, total=total or 0, page=page.page, size=page.size)


def _entry(row: AuditEvent) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        occurred_at=row.occurred_at,
        actor=row.actor_name,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        organization_id=row.organization_id,
        organization_name=row.organization_name,
        details=json.loads(row.details),
    )
