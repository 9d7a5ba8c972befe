"""The ``/api/`` CSV export route: authenticate, check, then stream the chunks.

Query parameters: ``org`` (or an ``org`` path parameter), ``coin`` (repeat it
for several), ``from`` and ``to`` (a date or an ISO 8601 date-time) and ``tz``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from crypto_dash.errors import (
    AuthError,
    CryptoDashError,
    NotFound,
    PermissionDenied,
    StorageError,
    ValidationError,
)
from crypto_dash.services import export
from crypto_dash.services.principal import Principal

logger = logging.getLogger(__name__)

EXPORT_PATH = "/api/export/prices.csv"  # where crypto_dash.server.app mounts it
CSV_TYPE = "text/csv; charset=utf-8"
STATUS = {
    ValidationError: 400,
    AuthError: 401,
    PermissionDenied: 403,
    NotFound: 404,
    StorageError: 503,
}


def make_export_endpoint(
    get_runtime: Callable[[], Any],
    resolve_principal: Callable[[Request], Principal | None],
) -> Callable[[Request], Awaitable[Response]]:
    """Build the Starlette endpoint; ``get_runtime()`` returns the Runtime."""

    async def export_csv(request: Request) -> Response:
        try:
            principal = await run_in_threadpool(resolve_principal, request)
            if principal is None:
                return _error(401, "Sign in to export prices.")
            runtime = get_runtime()
            chunks = await run_in_threadpool(_open_export, runtime, principal, request)
        except CryptoDashError as exc:
            return _error(_status(exc), exc.message)
        except Exception:
            logger.exception("CSV export could not start")
            return _error(500, "The export failed; the server log has the detail.")
        filename = f"crypto-dash-prices-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
        return StreamingResponse(
            _logged(chunks),
            media_type=CSV_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )

    return export_csv


def _open_export(runtime: Any, principal: Principal, request: Request) -> Iterator[str]:
    params = request.query_params
    org = request.path_params.get("org") or params.get("org")
    if not org:
        raise ValidationError.for_field("org", "Say which organization to export.")
    zone = export.parse_zone(params.get("tz"))
    return export.export_rows(
        principal,
        runtime.db,
        org,
        params.getlist("coin"),
        export.parse_bound(params.get("from"), zone, end=False),
        export.parse_bound(params.get("to"), zone, end=True),
        zone,
    )


def _logged(chunks: Iterator[str]) -> Iterator[str]:
    # The status line has gone out by now: a failure can only cut the body short.
    try:
        yield from chunks
    except Exception:
        logger.exception("CSV export failed while streaming")
        raise


def _status(exc: CryptoDashError) -> int:
    for kind, status in STATUS.items():
        if isinstance(exc, kind):
            return status
    return 500


def _error(status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": message}, status_code=status, headers=headers)
