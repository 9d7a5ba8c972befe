"""``/api/crypto-prices/``: an organization's own price entries."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crypto_dash.errors import NotFound, ValidationError
from crypto_dash.server.api.http import (
    ApiContext,
    call,
    caller,
    iso,
    page_request,
    paginated,
    read_json,
    require,
    text_field,
)
from crypto_dash.services import price_entries
from crypto_dash.services.price_entries import PriceEntryView

logger = logging.getLogger(__name__)

MISSING_ORG = "No such organization."


def render(entry: PriceEntryView) -> dict[str, Any]:
    return {
        "id": entry.id,
        "org_id": str(entry.org_id),
        "symbol": entry.symbol,
        "price": entry.price_text,
        "timestamp": iso(entry.timestamp),
    }


def _org_id(raw: object, field: str = "org_id") -> uuid.UUID:
    if not isinstance(raw, str):
        raise ValidationError.for_field(field, "The organization id must be a string.")
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(MISSING_ORG) from None


def _entry_id(request: Request) -> int:
    raw = str(request.path_params["entry_id"])
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("No such price entry.")
    return int(raw)


async def list_prices(request: Request, context: ApiContext) -> Response:
    principal = await caller(request, context)
    page = page_request(request)
    ordering = request.query_params.get("ordering") or "-timestamp"
    raw_org = request.query_params.get("org_id")
    db = context.runtime.db
    if raw_org:
        org_id = _org_id(raw_org)
        found = await call(
            price_entries.list_entries, principal, db, org_id, page, ordering
        )
    else:
        found = await call(price_entries.list_my_entries, principal, db, page, ordering)
    return paginated(request, found, render)


async def create_price(request: Request, context: ApiContext) -> Response:
    principal = await caller(request, context)
    data = await read_json(request)
    require(data, "org_id", "symbol", "price")
    org_id = _org_id(data["org_id"])
    symbol = text_field(data, "symbol")
    when = _timestamp(data.get("timestamp"))
    entry = await call(
        price_entries.create_entry,
        principal,
        context.runtime.db,
        org_id,
        symbol,
        data["price"],
        when,
    )
    return JSONResponse(render(entry), status_code=201)


def _timestamp(raw: object) -> datetime | None:
    """An optional ISO 8601 time; one without an offset is read as UTC."""
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
    raise ValidationError.for_field(
        "timestamp", "The time must be an ISO 8601 date-time such as 2026-01-31T12:00Z."
    )


async def get_price(request: Request, context: ApiContext) -> Response:
    principal = await caller(request, context)
    entry_id = _entry_id(request)
    entry = await call(price_entries.get_entry, principal, context.runtime.db, entry_id)
    return JSONResponse(render(entry))


async def delete_price(request: Request, context: ApiContext) -> Response:
    principal = await caller(request, context)
    entry_id = _entry_id(request)
    await call(price_entries.delete_entry, principal, context.runtime.db, entry_id)
    return Response(status_code=204)
