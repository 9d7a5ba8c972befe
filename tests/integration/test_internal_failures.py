"""A failure of ours inside the fetch is recorded once, without its detail."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from crypto_dash.coingecko import CoinGeckoClient
from crypto_dash.db.models import FetchRun
from crypto_dash.scheduler.runs import run_job
from crypto_dash.services import market
from crypto_dash.services.ingestion import fetch_latest
from crypto_dash.services.principal import Principal
from tests.builders import make_org, make_user
from tests.builders_prices import add_coin, watch

SECRET_DETAIL = "password=hunter2 in a connection string"


def broken(request: httpx.Request) -> httpx.Response:
    raise RuntimeError(SECRET_DETAIL)


def test_an_internal_error_is_one_failed_run_that_names_no_detail(db, caplog):
    owner = make_user(db, "olga")
    org = make_org(db, "Acme", owner)
    add_coin(db, "bitcoin", "btc")
    watch(db, org.id, "bitcoin")
    client = CoinGeckoClient(
        transport=httpx.MockTransport(broken), sleep=lambda s: None
    )

    outcome = run_job(
        db,
        lambda: fetch_latest(Principal.system(), db, client, ["usd"]),
        worker="test",
        trigger="schedule",
        lock_ttl_seconds=30,
    )

    with db.read_session() as session:
        runs = session.execute(select(FetchRun.status, FetchRun.error)).all()
    assert [status for status, _ in runs] == ["failed"]
    assert outcome.run_id is not None and outcome.status == "failed"
    (error,) = [error for _, error in runs]
    assert SECRET_DETAIL not in error and "server log" in error
    banner = market.feed_status(owner, db).problem
    assert banner is not None and SECRET_DETAIL not in banner
    assert SECRET_DETAIL in caplog.text  # the log keeps the detail for the operator
    client.close()
