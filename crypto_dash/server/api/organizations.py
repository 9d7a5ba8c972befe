"""``/api/organizations/``: list, create, read, rename and delete."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crypto_dash.server.api.http import (
    ApiContext,
    call,
    caller,
    iso,
    page_request,
    paginated,
    path_uuid,
    read_json,
    require,
    text_field,
)
from crypto_dash.services import organizations
from crypto_dash.services.organizations import OrganizationView

logger = logging.getLogger(__name__)

MISSING = "No such organization."


def render(org: OrganizationView) -> dict[str, Any]:
    return {"id": str(org.id), "name": org.name, "created_at": iso(org.created_at)}


async def list_orgs(request: Request, context: ApiContext) -> Response:
    principal = await caller(request, context)
    page = page_request(request)
    search = request.query_params.get("search") or None
    found = await call(
        organizations.list_organizations,
        principal,
        context.runtime.db,
        page,
        search=search,
    )
    return paginated(request, found, render)


async def create_org(request: Request, context: ApiContext) -> Response:
    principal = await caller(request, context)
    data = await read_json(request)
    require(data, "name")
    name = text_field(data, "name")
    org = await call(
        organizations.create_organization, principal, context.runtime.db, name
    )
    return JSONResponse(render(org), status_code=201)


async def get_org(request: Request, context: ApiContext) -> Response:
    principal = await caller(request, context)
    org_id = path_uuid(request, "org_id", MISSING)
    org = await call(
        organizations.get_organization, principal, context.runtime.db, org_id
    )
    return JSONResponse(render(org))


async def update_org(request: Request, context: ApiContext) -> Response:
    principal = await caller(request, context)
    org_id = path_uuid(request, "org_id", MISSING)
    data = await read_json(request)
    require(data, "name")
    name = text_field(data, "name")
    org = await call(
        organizations.rename_organization, principal, context.runtime.db, org_id, name
    )
    return JSONResponse(render(org))


async def delete_org(request: Request, context: ApiContext) -> Response:
    principal = await caller(request, context)
    org_id = path_uuid(request, "org_id", MISSING)
    await call(organizations.delete_organization, principal, context.runtime.db, org_id)
    return Response(status_code=204)
