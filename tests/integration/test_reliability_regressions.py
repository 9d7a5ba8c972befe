"""Bugs the reliability proofs found, each pinned by the smallest test."""

from __future__ import annotations

import pytest

from crypto_dash.errors import NotFound
from crypto_dash.services import price_entries
from tests.api_support import bearer, make_client, make_runtime, sign_in
from tests.builders import make_org, make_user


@pytest.mark.parametrize("entry_id", ["2147483648", "1000000000000000", "0"])
def test_an_entry_id_beyond_the_id_column_is_missing_not_a_server_error(
    db, tmp_path, entry_id
):
    # Found by schemathesis: PostgreSQL refused ids over 2**31 - 1 with a 500.
    client = make_client(make_runtime(db, tmp_path))
    alice = make_user(db, "alice")
    make_org(db, "Acme", alice)
    token = sign_in(client, "alice")["access"]

    read = client.get(f"/api/crypto-prices/{entry_id}/", headers=bearer(token))
    removed = client.delete(f"/api/crypto-prices/{entry_id}/", headers=bearer(token))

    assert (read.status_code, removed.status_code) == (404, 404)
    with pytest.raises(NotFound):
        price_entries.get_entry(alice, db, int(entry_id))
