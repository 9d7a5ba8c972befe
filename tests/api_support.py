"""Helpers for HTTP tests of the JSON API against its real Starlette routes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
from starlette.applications import Starlette

from crypto_dash.db.engine import Database
from crypto_dash.runtime import Runtime
from crypto_dash.server.api import ApiContext, api_routes
from crypto_dash.services.auth import Authenticator
from crypto_dash.settings import Settings
from tests.builders import FAST_ROUNDS, PASSWORD

SECRET = "test-secret-long-enough-for-hs256-and-the-hs512-forgery-0123456789"
ORIGIN = "http://testserver"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_runtime(
    db: Database,
    tmp_path: Path,
    clock: Callable[[], datetime] | None = None,
    **overrides: object,
) -> Runtime:
    options: dict[str, object] = {
        "data_dir": tmp_path,
        "database_url": db.url,
        "jwt_secret": SECRET,
        "bcrypt_rounds": FAST_ROUNDS,
    }
    options.update(overrides)
    runtime = Runtime(settings=Settings(**options), db=db)  # type: ignore[arg-type]
    if clock is not None:
        runtime.authenticator = Authenticator(db, runtime.settings, clock=clock)
    return runtime


class ApiClient:
    """A synchronous face on httpx's ASGI transport (each call runs its own loop)."""

    def __init__(self, runtime: Runtime) -> None:
        self.app = Starlette(routes=api_routes(ApiContext(runtime)))

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url=ORIGIN
            ) as client:
                return await client.request(method, url, **kwargs)  # type: ignore[arg-type]

        return anyio.run(send)

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


def make_client(runtime: Runtime) -> ApiClient:
    return ApiClient(runtime)


def sign_in(client: ApiClient, username: str, password: str = PASSWORD) -> dict:
    response = client.post(
        "/api/token/", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
