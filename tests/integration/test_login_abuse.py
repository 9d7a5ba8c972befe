"""Login abuse: throttling kept in the database, one message, long passwords (§8, 4)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from crypto_dash.db.models import User
from crypto_dash.errors import AccountLocked, InvalidCredentials, ValidationError
from crypto_dash.services import throttle, users
from crypto_dash.services.auth import Authenticator
from crypto_dash.services.throttle import MAX_CHECKS_PER_HOUR, lock_seconds
from tests.api_support import Clock, make_client, make_runtime
from tests.builders import PASSWORD, SYSTEM, make_user

LONG_PASSWORDS = {"73 bytes": "a" * 73, "200 bytes": "b" * 200, "30 emoji": "😀" * 30}


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def runtime(db, tmp_path, clock):
    return make_runtime(db, tmp_path, clock=clock)


def attempt(auth: Authenticator, username: str, password: str) -> str:
    try:
        auth.authenticate(username, password)
    except InvalidCredentials:
        return "checked and refused"
    except AccountLocked:
        return "locked"
    return "signed in"


def test_101_rapid_wrong_attempts_check_only_a_few_and_lock_the_account(
    db, runtime, caplog
):
    make_user(db, "alice")
    caplog.set_level(logging.INFO)

    outcomes = [
        attempt(runtime.authenticator, "alice", "wrong guess") for _ in range(101)
    ]
    right = attempt(runtime.authenticator, "alice", PASSWORD)

    assert outcomes.count("checked and refused") == 5
    assert outcomes.count("locked") == 96
    assert right == "locked"
    locks = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert locks and "alice" in locks[0].getMessage()
    assert "wrong guess" not in caplog.text


def test_within_an_hour_of_waiting_out_each_lock_few_attempts_are_checked(
    db, runtime, clock
):
    make_user(db, "alice")
    start, checked = clock.now, 0

    while (clock.now - start).total_seconds() < 3600:
        try:
            runtime.authenticator.authenticate("alice", "wrong guess")
        except InvalidCredentials:
            checked += 1
        except AccountLocked as exc:
            clock.advance(exc.retry_after)

    assert 5 < checked <= MAX_CHECKS_PER_HOUR


def test_without_delays_the_hourly_cap_still_stops_the_101st_check(
    db, runtime, monkeypatch
):
    monkeypatch.setattr(throttle, "lock_seconds", lambda failures: 0)
    make_user(db, "alice")

    outcomes = [attempt(runtime.authenticator, "alice", "wrong") for _ in range(101)]

    assert outcomes.count("checked and refused") == MAX_CHECKS_PER_HOUR
    assert outcomes[-1] == "locked"


def test_the_lock_grows_with_failures_and_ends_after_its_delay(db, runtime, clock):
    make_user(db, "alice")
    for _ in range(5):
        attempt(runtime.authenticator, "alice", "wrong guess")

    with pytest.raises(AccountLocked) as locked:
        runtime.authenticator.authenticate("alice", PASSWORD)
    clock.advance(locked.value.retry_after)
    principal = runtime.authenticator.authenticate("alice", PASSWORD)

    assert locked.value.retry_after == lock_seconds(5) == 1
    assert lock_seconds(6) == 2 and lock_seconds(40) == 15 * 60
    assert principal.username == "alice"


def test_the_failure_count_survives_a_new_authenticator(db, runtime, tmp_path):
    make_user(db, "alice")
    for _ in range(5):
        attempt(runtime.authenticator, "alice", "wrong guess")

    restarted = make_runtime(db, tmp_path)

    assert attempt(restarted.authenticator, "alice", PASSWORD) == "locked"


def test_a_success_resets_the_failure_count(db, runtime):
    make_user(db, "alice")
    for _ in range(4):
        attempt(runtime.authenticator, "alice", "wrong guess")

    runtime.authenticator.authenticate("alice", PASSWORD)
    outcomes = [attempt(runtime.authenticator, "alice", "wrong") for _ in range(4)]

    assert outcomes == ["checked and refused"] * 4


def test_unknown_user_wrong_password_and_disabled_account_answer_alike(db, runtime):
    make_user(db, "alice")
    bob = make_user(db, "bob")
    users.set_active(SYSTEM, db, bob.user_id, False)
    client = make_client(runtime)

    answers = [
        client.post("/api/token/", json={"username": name, "password": password})
        for name, password in (
            ("nobody", PASSWORD),
            ("alice", "wrong guess"),
            ("bob", PASSWORD),
        )
    ]

    assert {r.status_code for r in answers} == {401}
    assert len({r.text for r in answers}) == 1


@pytest.mark.parametrize("password", LONG_PASSWORDS.values(), ids=LONG_PASSWORDS)
def test_over_long_passwords_are_refused_with_a_message_never_a_500(
    db, runtime, password
):
    make_user(db, "alice")
    client = make_client(runtime)

    login = client.post("/api/token/", json={"username": "alice", "password": password})
    with pytest.raises(ValidationError) as registration:
        users.create_user(SYSTEM, db, "carol", password, rounds=4)

    assert login.status_code == 400
    assert "72 bytes" in login.json()["password"][0]
    assert "72 bytes" in registration.value.field_errors["password"]


def test_stored_hashes_use_the_configured_cost_of_at_least_12(db, tmp_path):
    runtime = make_runtime(db, tmp_path, bcrypt_rounds=12)
    code = runtime.authenticator.ensure_setup_code()

    runtime.authenticator.create_first_admin(code, "root", "a long password")

    with db.read_session() as session:
        stored = session.scalar(select(User.password_hash))
    assert stored.startswith("$2b$12$")
