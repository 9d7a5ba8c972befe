"""Every endpoint tried across organizations, and roles that may not act (§8, 3)."""

from __future__ import annotations

import uuid

import pytest

from crypto_dash.db.models import Role
from crypto_dash.services import price_entries
from tests.api_support import bearer, make_client, make_runtime, sign_in
from tests.builders import join, make_org, make_user


@pytest.fixture
def world(db, tmp_path):
    """A owns org1 and B owns org2 (same names but case, same symbols); V views org1."""
    client = make_client(make_runtime(db, tmp_path))
    a, b, v = make_user(db, "a"), make_user(db, "b"), make_user(db, "v")
    org1, org2 = make_org(db, "Acme", a), make_org(db, "ACME two", b)
    join(db, org1.id, v, Role.VIEWER)
    mine = price_entries.create_entry(a, db, org1.id, "BTC", "100.5")
    theirs = price_entries.create_entry(b, db, org2.id, "BTC", "200.25")
    tokens = {name: sign_in(client, name)["access"] for name in ("a", "b", "v")}
    return client, tokens, org1, org2, mine, theirs


def snapshot(client, token, org_id):
    org = client.get(f"/api/organizations/{org_id}/", headers=bearer(token)).json()
    prices = client.get(
        f"/api/crypto-prices/?org_id={org_id}", headers=bearer(token)
    ).json()
    return org, prices


def test_another_organizations_objects_answer_exactly_like_missing_ones(world):
    client, tokens, _, org2, _, theirs = world
    before = snapshot(client, tokens["b"], org2.id)
    as_a = bearer(tokens["a"])
    nowhere, no_entry = uuid.uuid4(), theirs.id + 1000

    pairs = [
        (
            client.get(f"/api/organizations/{org2.id}/", headers=as_a),
            client.get(f"/api/organizations/{nowhere}/", headers=as_a),
        ),
        (
            client.patch(
                f"/api/organizations/{org2.id}/", json={"name": "x"}, headers=as_a
            ),
            client.patch(
                f"/api/organizations/{nowhere}/", json={"name": "x"}, headers=as_a
            ),
        ),
        (
            client.delete(f"/api/organizations/{org2.id}/", headers=as_a),
            client.delete(f"/api/organizations/{nowhere}/", headers=as_a),
        ),
        (
            client.get(f"/api/crypto-prices/?org_id={org2.id}", headers=as_a),
            client.get(f"/api/crypto-prices/?org_id={nowhere}", headers=as_a),
        ),
        (
            client.post(
                "/api/crypto-prices/",
                headers=as_a,
                json={"org_id": str(org2.id), "symbol": "BTC", "price": "1"},
            ),
            client.post(
                "/api/crypto-prices/",
                headers=as_a,
                json={"org_id": str(nowhere), "symbol": "BTC", "price": "1"},
            ),
        ),
        (
            client.get(f"/api/crypto-prices/{theirs.id}/", headers=as_a),
            client.get(f"/api/crypto-prices/{no_entry}/", headers=as_a),
        ),
        (
            client.delete(f"/api/crypto-prices/{theirs.id}/", headers=as_a),
            client.delete(f"/api/crypto-prices/{no_entry}/", headers=as_a),
        ),
    ]

    for across, missing in pairs:
        assert across.status_code == missing.status_code == 404
        assert across.json() == missing.json()
    assert snapshot(client, tokens["b"], org2.id) == before


def test_lists_hold_none_of_another_organizations_rows(world):
    client, tokens, org1, _, mine, _ = world
    as_a = bearer(tokens["a"])

    orgs = client.get("/api/organizations/?search=acme", headers=as_a).json()
    prices = client.get("/api/crypto-prices/", headers=as_a).json()

    assert [o["id"] for o in orgs["results"]] == [str(org1.id)]
    assert [p["id"] for p in prices["results"]] == [mine.id]
    assert prices["count"] == 1


def test_a_viewer_may_read_but_not_change_or_delete(world):
    client, tokens, org1, _, mine, _ = world
    as_v = bearer(tokens["v"])

    read = client.get(f"/api/crypto-prices/?org_id={org1.id}", headers=as_v)
    answers = [
        client.patch(
            f"/api/organizations/{org1.id}/", json={"name": "x"}, headers=as_v
        ),
        client.delete(f"/api/organizations/{org1.id}/", headers=as_v),
        client.post(
            "/api/crypto-prices/",
            headers=as_v,
            json={"org_id": str(org1.id), "symbol": "ETH", "price": "2"},
        ),
        client.delete(f"/api/crypto-prices/{mine.id}/", headers=as_v),
    ]

    assert read.status_code == 200 and read.json()["count"] == 1
    assert [r.status_code for r in answers] == [403] * 4
    assert client.get(f"/api/crypto-prices/{mine.id}/", headers=as_v).is_success
