"""``/api/token/`` and ``/api/token/refresh/``: the seed's JWT pair endpoints."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crypto_dash.server.api.http import ApiContext, call, read_json, require, text_field
from crypto_dash.services.auth import TokenPair

logger = logging.getLogger(__name__)


def _pair(pair: TokenPair) -> JSONResponse:
    return JSONResponse({"access": pair.access, "refresh": pair.refresh})


async def obtain(request: Request, context: ApiContext) -> Response:
    data = await read_json(request)
    require(data, "username", "password")
    username = text_field(data, "username")
    password = text_field(data, "password")
    principal = await call(context.auth.authenticate, username, password)
    return _pair(await call(context.auth.issue_tokens, principal))


async def refresh(request: Request, context: ApiContext) -> Response:
    data = await read_json(request)
    require(data, "refresh")
    token = text_field(data, "refresh")
    return _pair(await call(context.auth.refresh, token))
