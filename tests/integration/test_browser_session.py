"""The browser's sign-in cookie: ticket, Set-Cookie, origin checks, logout."""

from __future__ import annotations

import logging

import pytest

from crypto_dash.errors import TokenInvalid, ValidationError
from crypto_dash.server.api.session import COOKIE_NAME
from crypto_dash.services import users
from tests.api_support import ORIGIN, Clock, make_client, make_runtime
from tests.builders import SYSTEM, make_user

SAME_ORIGIN = {"Origin": ORIGIN}


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def runtime(db, tmp_path, clock):
    return make_runtime(db, tmp_path, clock=clock)


def ticket_for(db, runtime, name="alice"):
    make_user(db, name)
    principal = runtime.authenticator.authenticate(name, "correct horse")
    return runtime.authenticator.start_browser_session(principal)


def redeem(client, ticket, headers=SAME_ORIGIN):
    return client.post("/api/session/redeem/", json={"ticket": ticket}, headers=headers)


def test_a_ticket_buys_an_httponly_strict_cookie_that_restores_the_user(db, runtime):
    client = make_client(runtime)

    response = redeem(client, ticket_for(db, runtime))
    cookie = response.cookies[COOKIE_NAME]
    restored = runtime.authenticator.principal_from_session(cookie)

    set_cookie = response.headers["set-cookie"].lower()
    assert response.status_code == 200
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    assert "path=/" in set_cookie and "secure" not in set_cookie
    assert restored is not None and restored.username == "alice"


def test_the_cookie_is_secure_when_the_setting_says_so(db, tmp_path):
    runtime = make_runtime(db, tmp_path, cookie_secure=True)

    response = redeem(make_client(runtime), ticket_for(db, runtime))

    assert "secure" in response.headers["set-cookie"].lower()


def test_a_ticket_works_once_and_only_for_60_seconds(db, runtime, clock):
    client = make_client(runtime)
    spent = ticket_for(db, runtime)
    late = runtime.authenticator.start_browser_session(
        runtime.authenticator.authenticate("alice", "correct horse")
    )

    first = redeem(client, spent)
    again = redeem(client, spent)
    clock.advance(61)
    expired = redeem(client, late)

    assert first.status_code == 200
    assert again.status_code == 401 and expired.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "http://evil.example"}, {"Origin": "null"}],
    ids=["no origin", "other origin", "null origin"],
)
def test_session_posts_from_another_origin_are_refused(db, runtime, headers, caplog):
    client = make_client(runtime)
    ticket = ticket_for(db, runtime)
    caplog.set_level(logging.WARNING)

    refused = redeem(client, ticket, headers)
    logout = client.post("/api/session/logout/", headers=headers)

    assert refused.status_code == 403 and logout.status_code == 403
    assert COOKIE_NAME not in refused.cookies
    assert ticket not in caplog.text


def test_logout_revokes_the_cookie_on_the_server_and_clears_it(db, runtime):
    client = make_client(runtime)
    cookie = redeem(client, ticket_for(db, runtime)).cookies[COOKIE_NAME]

    response = client.post(
        "/api/session/logout/",
        headers=SAME_ORIGIN | {"Cookie": f"{COOKIE_NAME}={cookie}"},
    )

    assert response.status_code == 200
    assert "max-age=0" in response.headers["set-cookie"].lower()
    assert runtime.authenticator.principal_from_session(cookie) is None


def test_a_password_change_or_disable_ends_browser_sessions(db, runtime):
    client = make_client(runtime)
    first = redeem(client, ticket_for(db, runtime, "alice")).cookies[COOKIE_NAME]
    second = redeem(client, ticket_for(db, runtime, "bob")).cookies[COOKIE_NAME]
    alice = users.find_user(SYSTEM, db, "alice")
    bob = users.find_user(SYSTEM, db, "bob")

    users.reset_password(SYSTEM, db, alice.id, "another password", rounds=4)
    users.set_active(SYSTEM, db, bob.id, False)

    assert runtime.authenticator.principal_from_session(first) is None
    assert runtime.authenticator.principal_from_session(second) is None


def test_junk_cookies_restore_nobody(runtime):
    for junk in (None, "", "x", "1.abc", "9" * 500):
        assert runtime.authenticator.principal_from_session(junk) is None


def test_an_expired_browser_session_restores_nobody(db, runtime, clock):
    cookie = redeem(make_client(runtime), ticket_for(db, runtime)).cookies[COOKIE_NAME]

    clock.advance(runtime.settings.refresh_token_days * 86400 + 1)

    assert runtime.authenticator.principal_from_session(cookie) is None


def test_first_start_makes_a_logged_one_time_code_for_the_first_admin(
    db, runtime, caplog
):
    caplog.set_level(logging.WARNING)

    needed = runtime.authenticator.setup_needed()
    code = runtime.authenticator.ensure_setup_code()
    with pytest.raises(ValidationError) as wrong:
        runtime.authenticator.create_first_admin("AAAA-BBBB", "root", "long enough")
    admin = runtime.authenticator.create_first_admin(
        code.lower(), "root", "long enough"
    )
    with pytest.raises(ValidationError) as again:
        runtime.authenticator.create_first_admin(code, "root2", "long enough")

    assert needed and code in caplog.text
    assert "setup_code" in wrong.value.field_errors
    assert admin.is_admin and admin.username == "root"
    assert "setup_code" in again.value.field_errors
    assert not runtime.authenticator.setup_needed()
    assert runtime.authenticator.ensure_setup_code() is None


def test_a_stale_principal_cannot_start_a_browser_session(db, runtime):
    make_user(db, "alice")
    principal = runtime.authenticator.authenticate("alice", "correct horse")
    users.reset_password(SYSTEM, db, principal.user_id, "another password", rounds=4)

    with pytest.raises(TokenInvalid):
        runtime.authenticator.start_browser_session(principal)
