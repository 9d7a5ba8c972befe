"""Tokens over HTTP: sign-in, rotation, forged tokens and revocation (§8, 1-2)."""

from __future__ import annotations

import base64
import json
import logging
import time

import jwt
import pytest

from crypto_dash.db.models import Role
from crypto_dash.services import members, users
from tests.api_support import SECRET, bearer, make_client, make_runtime, sign_in
from tests.builders import SYSTEM, join, make_org, make_user


@pytest.fixture
def runtime(db, tmp_path):
    return make_runtime(db, tmp_path)


@pytest.fixture
def client(runtime):
    return make_client(runtime)


def claims_for(user_id: int, **changes) -> dict:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + 600,
        "jti": "j1",
        "iss": "crypto_dash",
        "type": "access",
        "tv": 1,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def current_claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_sign_in_returns_an_access_and_a_refresh_token_that_open_the_api(db, client):
    make_user(db, "alice")

    pair = sign_in(client, "alice")
    listed = client.get("/api/organizations/", headers=bearer(pair["access"]))

    assert set(pair) == {"access", "refresh"}
    assert listed.status_code == 200
    assert listed.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_an_access_token_carries_the_required_claims_and_is_hs256(db, client):
    make_user(db, "alice")

    access = sign_in(client, "alice")["access"]

    header = jwt.get_unverified_header(access)
    claims = current_claims(access)
    assert header["alg"] == "HS256" and header["typ"] == "at+jwt"
    assert {"sub", "iat", "exp", "jti", "iss", "type", "tv"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["type"] == "access"


def test_refresh_rotates_and_reusing_a_spent_token_revokes_the_family(db, client):
    make_user(db, "alice")
    first = sign_in(client, "alice")

    second = client.post("/api/token/refresh/", json={"refresh": first["refresh"]})
    reuse = client.post("/api/token/refresh/", json={"refresh": first["refresh"]})
    after = client.post(
        "/api/token/refresh/", json={"refresh": second.json()["refresh"]}
    )

    assert second.status_code == 200
    assert second.json()["refresh"] != first["refresh"]
    assert reuse.status_code == 401
    assert after.status_code == 401


def test_a_rotated_refresh_gives_a_working_access_token(db, client):
    make_user(db, "alice")
    first = sign_in(client, "alice")

    second = client.post("/api/token/refresh/", json={"refresh": first["refresh"]})
    listed = client.get("/api/organizations/", headers=bearer(second.json()["access"]))

    assert listed.status_code == 200


def _tampered_payload(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(int(claims["sub"]) + 1)
    raw = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    return f"{header}.{raw.decode()}.{signature}"


def _tampered_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{header}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


def _forgeries(user_id: int, good: str, refresh: str) -> dict[str, str]:
    tv = current_claims(good)["tv"]
    base = claims_for(user_id, tv=tv)
    hs256 = {"typ": "at+jwt"}
    none_token = jwt.encode(base, None, algorithm="none", headers=hs256)
    return {
        "payload sub changed": _tampered_payload(good),
        "signature changed": _tampered_signature(good),
        "alg none": none_token,
        "HS512": jwt.encode(base, SECRET, algorithm="HS512", headers=hs256),
        "no exp": jwt.encode(
            claims_for(user_id, tv=tv, exp=None), SECRET, headers=hs256
        ),
        "expired": jwt.encode(
            claims_for(
                user_id, tv=tv, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600
            ),
            SECRET,
            headers=hs256,
        ),
        "refresh type claim": jwt.encode(
            claims_for(user_id, tv=tv, type="refresh"), SECRET, headers=hs256
        ),
        "no typ header": jwt.encode(base, SECRET),
        "other secret": jwt.encode(base, "x" * 40, headers=hs256),
        "refresh token as access": refresh,
        "garbage": "not-a-token",
    }


def test_forged_expired_and_wrong_kind_tokens_are_refused_and_logged_without_them(
    db, client, caplog
):
    alice = make_user(db, "alice")
    make_org(db, "Acme", alice)
    pair = sign_in(client, "alice")
    caplog.set_level(logging.INFO)

    answers = {
        name: client.get("/api/organizations/", headers=bearer(token))
        for name, token in _forgeries(
            alice.user_id, pair["access"], pair["refresh"]
        ).items()
    }

    assert {name: r.status_code for name, r in answers.items()} == {
        name: 401 for name in answers
    }
    assert all("results" not in r.json() for r in answers.values())
    assert "access token refused" in caplog.text
    assert pair["access"] not in caplog.text and pair["refresh"] not in caplog.text


def test_a_request_without_a_bearer_token_is_refused(db, client):
    no_header = client.get("/api/organizations/")
    basic = client.get("/api/organizations/", headers={"Authorization": "Basic eDp5"})

    assert no_header.status_code == 401
    assert basic.status_code == 401
    assert no_header.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("change", ["password", "role", "disable", "admin"])
def test_old_tokens_stop_working_after_a_password_role_or_account_change(
    db, client, change
):
    owner = make_user(db, "olga")
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", owner)
    join(db, org.id, alice, Role.EDITOR)
    pair = sign_in(client, "alice")
    assert client.get("/api/organizations/", headers=bearer(pair["access"])).is_success

    if change == "password":
        users.reset_password(SYSTEM, db, alice.user_id, "a new password", rounds=4)
    elif change == "role":
        members.change_role(SYSTEM, db, org.id, alice.user_id, Role.VIEWER)
    elif change == "disable":
        users.set_active(SYSTEM, db, alice.user_id, False)
    else:
        users.set_admin(SYSTEM, db, alice.user_id, True)
    listed = client.get("/api/organizations/", headers=bearer(pair["access"]))
    refreshed = client.post("/api/token/refresh/", json={"refresh": pair["refresh"]})

    assert listed.status_code == 401
    assert refreshed.status_code == 401


def test_a_role_change_counts_on_the_next_token(db, client):
    owner = make_user(db, "olga")
    alice = make_user(db, "alice")
    org = make_org(db, "Acme", owner)
    join(db, org.id, alice, Role.EDITOR)
    members.change_role(SYSTEM, db, org.id, alice.user_id, Role.VIEWER)

    access = sign_in(client, "alice")["access"]
    posted = client.post(
        "/api/crypto-prices/",
        json={"org_id": str(org.id), "symbol": "BTC", "price": "1"},
        headers=bearer(access),
    )

    assert posted.status_code == 403
