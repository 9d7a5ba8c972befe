"""``GET /api/export/prices.csv``: the streamed CSV export, for tokens and cookies."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from crypto_dash.server.api.http import ApiContext
from crypto_dash.server.api.session import COOKIE_NAME
from crypto_dash.server.export_route import make_export_endpoint
from crypto_dash.services.principal import Principal


async def export_prices(request: Request, context: ApiContext) -> Response:
    def resolve(request: Request) -> Principal | None:
        # A Bearer token when there is one; else the browser's sign-in cookie
        # (SameSite=Strict, so a download link on the dashboard carries it).
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return context.auth.principal_from_access_token(token.strip())
        return context.auth.principal_from_session(request.cookies.get(COOKIE_NAME))

    endpoint = make_export_endpoint(lambda: context.runtime, resolve)
    return await endpoint(request)
