"""Happy paths with the seed's shapes, bad input as 400s, and the OpenAPI file."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from crypto_dash.server.api import ENDPOINTS
from crypto_dash.server.api.http import MAX_BODY_BYTES
from tests.api_support import bearer, make_client, make_runtime, sign_in
from tests.builders import make_user

EXACT = ["65000.1234567890", "0.00000000000123456789", "1"]


@pytest.fixture
def api(db, tmp_path):
    client = make_client(make_runtime(db, tmp_path))
    make_user(db, "alice")
    return client, bearer(sign_in(client, "alice")["access"])


def new_org(client, auth, name="Acme"):
    response = client.post("/api/organizations/", json={"name": name}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_organizations_can_be_created_read_renamed_listed_and_deleted(api):
    client, auth = api

    created = new_org(client, auth)
    read = client.get(f"/api/organizations/{created['id']}/", headers=auth)
    renamed = client.patch(
        f"/api/organizations/{created['id']}/", json={"name": "Acme Ltd"}, headers=auth
    )
    listed = client.get("/api/organizations/?search=ltd", headers=auth)
    deleted = client.delete(f"/api/organizations/{created['id']}/", headers=auth)
    gone = client.get(f"/api/organizations/{created['id']}/", headers=auth)

    assert set(created) == {"id", "name", "created_at"}
    assert uuid.UUID(created["id"]) and datetime.fromisoformat(created["created_at"])
    assert read.json() == created
    assert renamed.json()["name"] == "Acme Ltd"
    assert [o["name"] for o in listed.json()["results"]] == ["Acme Ltd"]
    assert deleted.status_code == 204 and gone.status_code == 404


def test_organization_pages_link_to_each_other(api):
    client, auth = api
    for number in range(25):
        new_org(client, auth, f"Org {number:02}")

    first = client.get("/api/organizations/", headers=auth).json()
    second = client.get(first["next"], headers=auth).json()

    assert first["count"] == 25 and len(first["results"]) == 20
    assert first["previous"] is None and "page=2" in first["next"]
    assert len(second["results"]) == 5 and second["next"] is None
    assert second["previous"] is not None


@pytest.mark.parametrize("price", EXACT)
def test_a_price_comes_back_as_the_exact_decimal_string_it_was_given(api, price):
    client, auth = api
    org = new_org(client, auth)

    created = client.post(
        "/api/crypto-prices/",
        json={"org_id": org["id"], "symbol": "BTC", "price": price},
        headers=auth,
    )
    listed = client.get(f"/api/crypto-prices/?org_id={org['id']}", headers=auth)

    assert created.status_code == 201
    assert set(created.json()) == {"id", "org_id", "symbol", "price", "timestamp"}
    assert created.json()["price"] == price
    assert listed.json()["results"][0]["price"] == price


def test_a_json_number_price_keeps_every_digit(api):
    client, auth = api
    org = new_org(client, auth)
    body = f'{{"org_id": "{org["id"]}", "symbol": "BTC", "price": 65000.1234567890123}}'

    created = client.post(
        "/api/crypto-prices/",
        content=body,
        headers=auth | {"Content-Type": "application/json"},
    )

    assert created.json()["price"] == "65000.1234567890123"


def test_a_price_may_say_when_it_held_and_a_bad_time_is_a_400(api):
    client, auth = api
    org = new_org(client, auth)
    entry = {"org_id": org["id"], "symbol": "BTC", "price": "1.5"}

    dated = client.post(
        "/api/crypto-prices/",
        json=entry | {"timestamp": "2025-01-31T12:00:00Z"},
        headers=auth,
    )
    garbled = client.post(
        "/api/crypto-prices/", json=entry | {"timestamp": "last tuesday"}, headers=auth
    )

    assert dated.status_code == 201, dated.text
    assert datetime.fromisoformat(dated.json()["timestamp"]) == datetime.fromisoformat(
        "2025-01-31T12:00:00+00:00"
    )
    assert garbled.status_code == 400
    assert "timestamp" in garbled.json()


def test_prices_can_be_ordered_paged_and_deleted(api):
    client, auth = api
    org = new_org(client, auth)
    for price in ("9", "10", "1.5"):
        client.post(
            "/api/crypto-prices/",
            json={"org_id": org["id"], "symbol": "BTC", "price": price},
            headers=auth,
        )

    ordered = client.get(
        "/api/crypto-prices/?ordering=-price&page_size=2", headers=auth
    ).json()
    entry_id = ordered["results"][0]["id"]
    deleted = client.delete(f"/api/crypto-prices/{entry_id}/", headers=auth)
    after = client.get("/api/crypto-prices/", headers=auth).json()

    assert [p["price"] for p in ordered["results"]] == ["10", "9"]
    assert ordered["count"] == 3 and ordered["next"] is not None
    assert deleted.status_code == 204
    assert after["count"] == 2


def test_malformed_json_and_non_objects_get_400_not_500(api):
    client, auth = api
    json_header = auth | {"Content-Type": "application/json"}

    answers = [
        client.post("/api/organizations/", content=body, headers=json_header)
        for body in (b"{", b"[1, 2]", b"\xff\xfe", b"NaN", b"[" * 5000 + b"]" * 5000)
    ]

    assert [r.status_code for r in answers] == [400] * 5
    assert all("detail" in r.json() for r in answers)


def test_missing_fields_and_wrong_types_are_reported_field_by_field(api):
    client, auth = api
    org = new_org(client, auth)

    missing = client.post("/api/crypto-prices/", json={}, headers=auth)
    wrong = [
        client.post("/api/crypto-prices/", headers=auth, json=body)
        for body in (
            {"org_id": 5, "symbol": "BTC", "price": "1"},
            {"org_id": org["id"], "symbol": ["BTC"], "price": "1"},
            {"org_id": org["id"], "symbol": "BTC", "price": "abc"},
            {"org_id": org["id"], "symbol": "BTC", "price": True},
            {"org_id": org["id"], "symbol": "BTC", "price": -5},
        )
    ]
    token = client.post("/api/token/", json={"username": 1, "password": "x"})

    assert missing.status_code == 400
    assert set(missing.json()) >= {"org_id", "symbol", "price"}
    fields = [next(k for k in r.json() if k != "detail") for r in wrong]
    assert [r.status_code for r in wrong] == [400] * 5
    assert fields == ["org_id", "symbol", "price", "price", "price"]
    assert token.status_code == 400 and "username" in token.json()


def test_bad_query_parameters_are_400_with_the_parameter_named(api):
    client, auth = api

    answers = {
        name: client.get(f"/api/crypto-prices/?{query}", headers=auth)
        for name, query in (
            ("page", "page=abc"),
            ("page_size", "page_size=1000"),
            ("ordering", "ordering=symbol"),
        )
    }

    for name, response in answers.items():
        assert response.status_code == 400
        assert name in response.json()


def test_a_body_over_the_size_limit_is_refused_with_400(api):
    client, auth = api
    big = '{"name": "' + "x" * (MAX_BODY_BYTES + 10) + '"}'

    response = client.post(
        "/api/organizations/",
        content=big,
        headers=auth | {"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert "larger than" in response.json()["detail"]


def test_the_openapi_document_describes_exactly_the_routes_served(api):
    client, _ = api

    document = client.get("/api/openapi.json").json()

    described = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert described == {(path, method) for path, method, _ in ENDPOINTS}
    assert document["openapi"].startswith("3.")
