"""The CSV export route as the server mounts it: Bearer token or sign-in cookie."""

from __future__ import annotations

import csv
import io

import pytest

from crypto_dash.server.api.session import COOKIE_NAME
from crypto_dash.server.export_route import EXPORT_PATH
from tests.api_support import bearer, make_client, make_runtime, sign_in
from tests.builders import make_org, make_user
from tests.builders_prices import add_coin, add_points, watch

T0 = 1_700_000_000


@pytest.fixture
def setup(db, tmp_path):
    runtime = make_runtime(db, tmp_path)
    client = make_client(runtime)
    alice, mallory = make_user(db, "alice"), make_user(db, "mallory")
    org = make_org(db, "Acme", alice)
    theirs = make_org(db, "Evil", mallory)
    add_coin(db, "bitcoin", "btc")
    watch(db, org.id, "bitcoin")
    add_points(db, "bitcoin", [(T0, "65000.1234567890")])
    return runtime, client, org, theirs, alice


def _rows(response):
    return list(csv.reader(io.StringIO(response.text)))


def test_a_bearer_token_exports_the_exact_prices(setup):
    _, client, org, _, _ = setup
    auth = bearer(sign_in(client, "alice")["access"])

    response = client.get(f"{EXPORT_PATH}?org={org.id}", headers=auth)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    body = [row for row in _rows(response) if row and row[0] == "bitcoin"]
    assert [row[4] for row in body] == ["65000.1234567890"]


def test_the_browser_sign_in_cookie_exports_too(setup):
    runtime, client, org, _, alice = setup
    ticket = runtime.authenticator.start_browser_session(alice)
    cookie = runtime.authenticator.redeem_ticket(ticket)

    response = client.get(
        f"{EXPORT_PATH}?org={org.id}", headers={"Cookie": f"{COOKIE_NAME}={cookie}"}
    )

    assert response.status_code == 200, response.text
    assert "65000.1234567890" in response.text


def test_no_credentials_or_a_bad_token_get_401(setup):
    _, client, org, _, _ = setup

    missing = client.get(f"{EXPORT_PATH}?org={org.id}")
    forged = client.get(f"{EXPORT_PATH}?org={org.id}", headers=bearer("x.y.z"))

    assert (missing.status_code, forged.status_code) == (401, 401)


def test_another_organization_answers_404(setup):
    _, client, _, theirs, _ = setup
    auth = bearer(sign_in(client, "alice")["access"])

    response = client.get(f"{EXPORT_PATH}?org={theirs.id}", headers=auth)

    assert response.status_code == 404


def test_a_date_past_the_end_of_the_calendar_is_a_400_not_a_crash(setup):
    _, client, org, _, _ = setup
    auth = bearer(sign_in(client, "alice")["access"])

    response = client.get(f"{EXPORT_PATH}?org={org.id}&to=9999-12-31", headers=auth)

    assert response.status_code == 400
    assert "is not a date" in response.json()["detail"]
