"""``/api/session/...``: the browser's HttpOnly sign-in cookie.

Streamlit cannot set cookies, so the sign-in page hands the browser a one-time
ticket that it POSTs here; the answer sets the cookie that later sessions read
through ``st.context.cookies``. Streamlit's XSRF check does not cover these
routes, so each POST must come from our own origin (``Origin`` matches
``Host``), on top of the cookie's SameSite=Strict.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crypto_dash.errors import PermissionDenied
from crypto_dash.server.api.http import ApiContext, call, read_json, require, text_field

logger = logging.getLogger(__name__)

COOKIE_NAME = "crypto_dash_session"
CROSS_SITE = "Cross-site requests are refused."


def check_same_origin(request: Request) -> None:
    """Refuse a POST whose Origin header is missing or names another site."""
    origin = request.headers.get("origin", "")
    host = request.headers.get("host", "")
    parts = urlsplit(origin)
    if not host or parts.scheme not in ("http", "https"):
        logger.warning("session POST refused: no usable Origin header")
        raise PermissionDenied(CROSS_SITE)
    if parts.netloc.lower() != host.lower():
        logger.warning("session POST refused: origin %s is not %s", origin, host)
        raise PermissionDenied(CROSS_SITE)


async def redeem(request: Request, context: ApiContext) -> Response:
    check_same_origin(request)
    data = await read_json(request)
    require(data, "ticket")
    cookie = await call(context.auth.redeem_ticket, text_field(data, "ticket"))
    settings = context.runtime.settings
    response = JSONResponse({"ok": True})
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=settings.refresh_token_days * 24 * 3600,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


async def logout(request: Request, context: ApiContext) -> Response:
    check_same_origin(request)
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        await call(context.auth.end_browser_session, cookie)
    response = JSONResponse({"ok": True})
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        secure=context.runtime.settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response
