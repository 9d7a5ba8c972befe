"""The sign-in page: one message for every failure, locks, first administrator."""

from __future__ import annotations

from crypto_dash.db.engine import Database
from crypto_dash.services.auth import Authenticator
from crypto_dash.settings import load_settings
from tests.builders import PASSWORD, make_user
from tests.e2e.apptest_support import open_app, pages_offered, shown

__all__ = ["open_app"]  # the fixture, used by name


def _sign_in(at, username, password):
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(password)
    at.button(key="sign_in_submit").click()
    return at.run()


def test_only_the_sign_in_page_exists_before_sign_in(open_app, db):
    make_user(db, "alice")

    at = open_app(None)

    assert pages_offered(at) == []
    assert at.text_input(key="sign_in_username") is not None


def test_a_wrong_password_and_an_unknown_user_get_the_same_message(open_app, db):
    make_user(db, "alice")
    at = open_app(None)

    wrong_password = shown(_sign_in(at, "alice", "not the password"), "error")
    unknown_user = shown(_sign_in(at, "nobody", "not the password"), "error")

    assert wrong_password == unknown_user == ["The user name or password is wrong."]
    assert "principal" not in at.session_state


def test_a_good_password_signs_in_and_opens_the_menu(open_app, db):
    make_user(db, "alice")
    at = open_app(None)

    at = _sign_in(at, "alice", PASSWORD)

    assert at.session_state["principal"].username == "alice"
    assert "pages/organizations.py" in pages_offered(at)
    assert not at.exception


def test_repeated_failures_lock_the_account_and_say_when_to_retry(open_app, db):
    make_user(db, "alice")
    at = open_app(None)

    for _ in range(6):
        at = _sign_in(at, "alice", "not the password")

    (message,) = shown(at, "error")
    assert message.startswith("Too many failed sign-ins. Try again in ")
    assert message.endswith(" s.")


def test_the_first_administrator_needs_the_setup_code(open_app, db_url, tmp_path):
    settings = load_settings(
        {"CRYPTO_DASH_DATABASE_URL": db_url, "CRYPTO_DASH_DATA_DIR": str(tmp_path)}
    )
    database = Database(db_url)
    code = Authenticator(database, settings).ensure_setup_code()
    database.dispose()
    at = open_app(None)

    at.text_input(key="setup_code").input("wrong-code")
    at.text_input(key="setup_username").input("root")
    at.text_input(key="setup_password").input(PASSWORD)
    at.button(key="setup_submit").click()
    refused = shown(at.run(), "error")
    at.text_input(key="setup_code").input(code)
    at.button(key="setup_submit").click()
    at.run()

    assert refused and "code" in refused[0].lower()
    assert any("root created" in text for text in shown(at, "success"))
    signed_in = _sign_in(at, "root", PASSWORD)
    assert "pages/admin_users.py" in pages_offered(signed_in)


def test_signing_out_in_one_tab_ends_the_other_tabs_of_that_browser(
    open_app, db_url, tmp_path, monkeypatch
):
    from crypto_dash.server import ui

    settings = load_settings(
        {"CRYPTO_DASH_DATABASE_URL": db_url, "CRYPTO_DASH_DATA_DIR": str(tmp_path)}
    )
    database = Database(db_url)
    alice = make_user(database, "alice")
    auth = Authenticator(database, settings)
    cookie = auth.redeem_ticket(auth.start_browser_session(alice))
    monkeypatch.setattr(ui, "session_cookie", lambda: cookie)
    other_tab = open_app(None)
    restored = pages_offered(other_tab)

    auth.end_browser_session(cookie)  # what the first tab's sign-out does
    other_tab.run()
    database.dispose()

    assert "pages/organizations.py" in restored
    assert pages_offered(other_tab) == []
    assert other_tab.text_input(key="sign_in_username") is not None
