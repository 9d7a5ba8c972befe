"""The JSON API: the seed system's endpoints plus the browser cookie routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crypto_dash.server.api import (
    export,
    openapi,
    organizations,
    prices,
    session,
    tokens,
)
from crypto_dash.server.api.http import ApiContext, Handler, endpoint

ENDPOINTS: tuple[tuple[str, str, Handler], ...] = (
    ("/api/token/", "POST", tokens.obtain),
    ("/api/token/refresh/", "POST", tokens.refresh),
    ("/api/organizations/", "GET", organizations.list_orgs),
    ("/api/organizations/", "POST", organizations.create_org),
    ("/api/organizations/{org_id}/", "GET", organizations.get_org),
    ("/api/organizations/{org_id}/", "PATCH", organizations.update_org),
    ("/api/organizations/{org_id}/", "DELETE", organizations.delete_org),
    ("/api/crypto-prices/", "GET", prices.list_prices),
    ("/api/crypto-prices/", "POST", prices.create_price),
    ("/api/crypto-prices/{entry_id}/", "GET", prices.get_price),
    ("/api/crypto-prices/{entry_id}/", "DELETE", prices.delete_price),
    ("/api/export/prices.csv", "GET", export.export_prices),
    ("/api/session/redeem/", "POST", session.redeem),
    ("/api/session/logout/", "POST", session.logout),
    ("/api/openapi.json", "GET", openapi.describe),
)


def api_routes(context: ApiContext) -> list[Route]:
    """One Starlette route per path, dispatching on the method."""
    by_path: dict[str, dict[str, Callable[..., Any]]] = {}
    for path, method, handler in ENDPOINTS:
        by_path.setdefault(path, {})[method] = endpoint(handler, context)
    return [
        Route(path, _dispatch(handlers), methods=list(handlers))
        for path, handlers in by_path.items()
    ]


def _dispatch(handlers: dict[str, Callable[..., Any]]) -> Callable[..., Any]:
    async def route(request: Request) -> Response:
        # Starlette answers HEAD on GET routes; it runs the GET handler.
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return route


__all__ = ["ENDPOINTS", "ApiContext", "api_routes"]
