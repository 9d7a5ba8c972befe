"""``/api/openapi.json``: the description of the JSON API (a test keeps it true)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crypto_dash.server.api.http import MAX_BODY_BYTES, ApiContext


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(schema: str) -> dict[str, Any]:
    content = {"application/json": {"schema": _ref(schema)}}
    return {"required": True, "content": content}


def _answer(text: str, schema: str | None = None) -> dict[str, Any]:
    if schema is None:
        return {"description": text}
    return {
        "description": text,
        "content": {"application/json": {"schema": _ref(schema)}},
    }


ERRORS = {
    "400": _answer(
        f"Bad input: malformed JSON, wrong types, missing fields, or a body over "
        f"{MAX_BODY_BYTES // 1024} KB. Field errors are lists under the field name.",
        "Error",
    ),
    "401": _answer("No token, or a bad, expired or revoked one.", "Error"),
}
SECURED = {"security": [{"bearer": []}]}
NOT_FOUND = {"404": _answer("Missing, or of an organization you are not in.", "Error")}
FORBIDDEN = {"403": _answer("Your role may not do this.", "Error")}


def _query(name: str, kind: str, text: str, **limits: Any) -> dict[str, Any]:
    schema = {"type": kind} | limits
    return {"name": name, "in": "query", "schema": schema, "description": text}


def _path(name: str, kind: str, fmt: str | None = None) -> dict[str, Any]:
    schema = {"type": kind} | ({"format": fmt} if fmt else {})
    return {"name": name, "in": "path", "required": True, "schema": schema}


PAGING = [
    _query("page", "integer", "1-based page number.", minimum=1, maximum=999_999_999),
    _query(
        "page_size",
        "integer",
        "Items per page, 1 to 100 (default 20).",
        minimum=1,
        maximum=100,
    ),
]
ORG_ID = _path("org_id", "string", "uuid")
ENTRY_ID = _path("entry_id", "integer")


def _string(fmt: str | None = None) -> dict[str, str]:
    return {"type": "string"} | ({"format": fmt} if fmt else {})


def _object(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def _page_of(item: str) -> dict[str, Any]:
    return _object(
        ["count", "next", "previous", "results"],
        count={"type": "integer"},
        next={"type": ["string", "null"]},
        previous={"type": ["string", "null"]},
        results={"type": "array", "items": _ref(item)},
    )


SCHEMAS = {
    "Credentials": _object(
        ["username", "password"], username=_string(), password=_string()
    ),
    "Refresh": _object(["refresh"], refresh=_string()),
    "TokenPair": _object(["access", "refresh"], access=_string(), refresh=_string()),
    "OrganizationIn": _object(["name"], name=_string()),
    "Organization": _object(
        ["id", "name", "created_at"],
        id=_string("uuid"),
        name=_string(),
        created_at=_string("date-time"),
    ),
    "OrganizationPage": _page_of("Organization"),
    "PriceIn": _object(
        ["org_id", "symbol", "price"],
        org_id=_string("uuid"),
        symbol=_string(),
        price={"type": ["string", "number"], "description": "An exact decimal."},
        timestamp={
            "type": "string",
            "format": "date-time",
            "description": "When the price held (ISO 8601); default: now.",
        },
    ),
    "Price": _object(
        ["id", "org_id", "symbol", "price", "timestamp"],
        id={"type": "integer"},
        org_id=_string("uuid"),
        symbol=_string(),
        price={"type": "string", "description": "The exact decimal, as given."},
        timestamp=_string("date-time"),
    ),
    "PricePage": _page_of("Price"),
    "Ticket": _object(["ticket"], ticket=_string()),
    "Ok": _object(["ok"], ok={"type": "boolean"}),
    "Error": {
        "type": "object",
        "required": ["detail"],
        "properties": {"detail": _string()},
        "additionalProperties": {"type": "array", "items": _string()},
    },
}

PATHS: dict[str, dict[str, Any]] = {
    "/api/token/": {
        "post": {
            "summary": "Sign in: trade a user name and password for a token pair.",
            "requestBody": _body("Credentials"),
            "responses": {
                "200": _answer("A new access and refresh token.", "TokenPair"),
                "429": _answer("Too many failures; see Retry-After.", "Error"),
            }
            | ERRORS,
        }
    },
    "/api/token/refresh/": {
        "post": {
            "summary": "Rotate a refresh token; reusing a spent one revokes all.",
            "requestBody": _body("Refresh"),
            "responses": {"200": _answer("A new token pair.", "TokenPair")} | ERRORS,
        }
    },
    "/api/organizations/": {
        "get": {
            "summary": "List the caller's organizations.",
            "parameters": [_query("search", "string", "Part of the name.")] + PAGING,
            "responses": {"200": _answer("One page.", "OrganizationPage")} | ERRORS,
        }
        | SECURED,
        "post": {
            "summary": "Create an organization; the caller becomes its owner.",
            "requestBody": _body("OrganizationIn"),
            "responses": {"201": _answer("Created.", "Organization")} | ERRORS,
        }
        | SECURED,
    },
    "/api/organizations/{org_id}/": {
        "get": {
            "summary": "Read one organization.",
            "parameters": [ORG_ID],
            "responses": {"200": _answer("The organization.", "Organization")}
            | ERRORS
            | NOT_FOUND,
        }
        | SECURED,
        "patch": {
            "summary": "Rename an organization (owners).",
            "parameters": [ORG_ID],
            "requestBody": _body("OrganizationIn"),
            "responses": {"200": _answer("Renamed.", "Organization")}
            | ERRORS
            | FORBIDDEN
            | NOT_FOUND,
        }
        | SECURED,
        "delete": {
            "summary": "Delete an organization with its entries (owners).",
            "parameters": [ORG_ID],
            "responses": {"204": _answer("Deleted.")} | ERRORS | FORBIDDEN | NOT_FOUND,
        }
        | SECURED,
    },
    "/api/crypto-prices/": {
        "get": {
            "summary": "List the entries of one or all of the caller's organizations.",
            "parameters": PAGING
            + [
                _query(
                    "ordering",
                    "string",
                    "id, price or timestamp; '-' descends.",
                    enum=["id", "-id", "price", "-price", "timestamp", "-timestamp"],
                ),
                _query(
                    "org_id",
                    "string",
                    "Only this organization's entries.",
                    format="uuid",
                ),
            ],
            "responses": {"200": _answer("One page.", "PricePage")}
            | ERRORS
            | NOT_FOUND,
        }
        | SECURED,
        "post": {
            "summary": "Record a price (editors and owners).",
            "requestBody": _body("PriceIn"),
            "responses": {"201": _answer("Created.", "Price")}
            | ERRORS
            | FORBIDDEN
            | NOT_FOUND,
        }
        | SECURED,
    },
    "/api/crypto-prices/{entry_id}/": {
        "get": {
            "summary": "Read one price entry.",
            "parameters": [ENTRY_ID],
            "responses": {"200": _answer("The entry.", "Price")} | ERRORS | NOT_FOUND,
        }
        | SECURED,
        "delete": {
            "summary": "Delete a price entry (editors and owners).",
            "parameters": [ENTRY_ID],
            "responses": {"204": _answer("Deleted.")} | ERRORS | FORBIDDEN | NOT_FOUND,
        }
        | SECURED,
    },
    "/api/session/redeem/": {
        "post": {
            "summary": "Browser only: trade a sign-in ticket for the HttpOnly cookie.",
            "requestBody": _body("Ticket"),
            "responses": {
                "200": _answer("The cookie is set.", "Ok"),
                "403": _answer("Another origin, or no Origin header.", "Error"),
            }
            | ERRORS,
        }
    },
    "/api/session/logout/": {
        "post": {
            "summary": "Browser only: revoke the sign-in cookie and clear it.",
            "responses": {
                "200": _answer("Signed out.", "Ok"),
                "403": _answer("Another origin, or no Origin header.", "Error"),
            },
        }
    },
    "/api/export/prices.csv": {
        "get": {
            "summary": "Stream the stored prices of an organization's coins as CSV.",
            "description": "A Bearer token, or the browser's sign-in cookie.",
            "parameters": [
                _query("org", "string", "The organization's id.", format="uuid"),
                _query("coin", "string", "A watchlist coin id; repeat it."),
                _query("from", "string", "First day (YYYY-MM-DD) or date-time."),
                _query("to", "string", "Last day (included) or date-time."),
                _query("tz", "string", "Time zone of the times, e.g. Europe/Berlin."),
            ],
            "responses": {
                "200": {
                    "description": "CSV: coin_id, symbol, vs_currency, observed_at, "
                    "price (exact), source.",
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                }
            }
            | ERRORS
            | FORBIDDEN
            | NOT_FOUND,
        }
        | SECURED,
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This description.",
            "responses": {"200": {"description": "An OpenAPI 3.1 document."}},
        }
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "crypto_dash API", "version": "1"},
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        },
    },
}


async def describe(request: Request, context: ApiContext) -> Response:
    return JSONResponse(DOCUMENT)
