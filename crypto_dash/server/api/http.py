"""What every JSON route shares: the body reader, errors, the caller, pages.

Routes are thin: ``endpoint`` wraps each one so that our errors become their
status codes (400, 401, 403, 404, 429, 503) with ``{"detail": sentence}`` and,
for bad input, the seed API's field-by-field lists (``{"price": ["..."]}``).
Anything else is a bug: it is logged with its traceback and answered 500.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crypto_dash.errors import (
    AccountLocked,
    AuthError,
    CryptoDashError,
    NotFound,
    PermissionDenied,
    StorageError,
    TokenInvalid,
    ValidationError,
)
from crypto_dash.runtime import Runtime
from crypto_dash.services.auth import Authenticator
from crypto_dash.services.pagination import Page, PageRequest
from crypto_dash.services.principal import Principal

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
NO_CREDENTIALS = "Authentication credentials were not provided."
REQUIRED = "This field is required."
T = TypeVar("T")
Handler = Callable[[Request, "ApiContext"], Awaitable[Response]]


class ApiContext:
    """Holds the process's runtime once the server's lifespan has opened it."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self._runtime = runtime

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise StorageError("The server is still starting; try again shortly.")
        return self._runtime

    def attach(self, runtime: Runtime | None) -> None:
        self._runtime = runtime

    @property
    def auth(self) -> Authenticator:
        return self.runtime.authenticator


def endpoint(handler: Handler, context: ApiContext) -> Callable[..., Any]:
    """Bind a handler to the context and turn our errors into responses."""

    async def route(request: Request) -> Response:
        try:
            return await handler(request, context)
        except CryptoDashError as exc:
            return error_response(exc)
        except Exception:
            logger.exception("%s %s failed", request.method, request.url.path)
            return JSONResponse({"detail": "Something went wrong."}, status_code=500)

    route.__name__ = handler.__name__
    return route


def error_response(exc: CryptoDashError) -> JSONResponse:
    body: dict[str, Any] = {"detail": exc.message}
    headers: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        status = 400
        body.update({field: [text] for field, text in exc.field_errors.items()})
    elif isinstance(exc, AccountLocked):
        status = 429
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, AuthError):
        status = 401
        headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(exc, PermissionDenied):
        status = 403
    elif isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, StorageError):
        status = 503
    else:
        status = 400
    return JSONResponse(body, status_code=status, headers=headers)


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking service call (database, bcrypt) off the event loop."""
    return await run_in_threadpool(function, *args, **kwargs)


async def read_json(request: Request) -> dict[str, Any]:
    """Read a JSON object body of at most ``MAX_BODY_BYTES``; decimals stay exact."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > MAX_BODY_BYTES:
            raise _too_large()
    try:
        data = json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_no)
    except (ValueError, RecursionError):
        raise ValidationError("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ValidationError("The request body must be a JSON object.")
    return data


def _no(constant: str) -> None:
    raise ValueError(f"{constant} is not allowed")


def _too_large() -> ValidationError:
    return ValidationError(
        f"The request body is larger than {MAX_BODY_BYTES // 1024} KB."
    )


def require(data: dict[str, Any], *fields: str) -> None:
    """Refuse a body that lacks any of ``fields``, naming each missing one."""
    missing = {name: REQUIRED for name in fields if data.get(name) is None}
    if missing:
        raise ValidationError("Some required fields are missing.", missing)


def text_field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ValidationError.for_field(name, "This field must be a string.")
    return value


async def caller(request: Request, context: ApiContext) -> Principal:
    """The principal of the request's Bearer token, or an AuthError (401)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenInvalid(NO_CREDENTIALS)
    return await call(context.auth.principal_from_access_token, token.strip())


def page_request(request: Request) -> PageRequest:
    params = request.query_params
    page = _int_param(params.get("page"), "page", 1)
    size = _int_param(params.get("page_size"), "page_size", 20)
    return PageRequest(page=page, size=size)


def _int_param(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise ValidationError.for_field(name, f"{name} must be a whole number.")
    return int(raw)


def paginated(
    request: Request, page: Page[T], render: Callable[[T], dict[str, Any]]
) -> JSONResponse:
    """The seed's page shape: count, next, previous (absolute URLs) and results."""

    def link(number: int) -> str:
        return str(request.url.include_query_params(page=number))

    return JSONResponse(
        {
            "count": page.total,
            "next": link(page.page + 1) if page.has_next else None,
            "previous": link(page.page - 1) if page.has_previous else None,
            "results": [render(item) for item in page.items],
        }
    )


def iso(moment: datetime) -> str:
    return moment.isoformat()


def path_uuid(request: Request, name: str, missing: str) -> uuid.UUID:
    """A UUID from the path; anything else is reported as a missing object."""
    try:
        return uuid.UUID(str(request.path_params[name]))
    except ValueError:
        raise NotFound(missing) from None
