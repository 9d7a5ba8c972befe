"""The latest fetch: one call per 250 watched coins, stored as new price points.

The observed time of a quote is CoinGecko's ``last_updated_at``, so fetching
the same quote twice stores it once. Every run is recorded as a FetchRun,
failures included: upstream trouble is recorded and reported, never raised. A
batch that fails validation is refused whole by the client, so nothing partial
is stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from crypto_dash.coingecko import MAX_IDS_PER_CALL, CoinGeckoClient, Quote
from crypto_dash.db.engine import Database
from crypto_dash.errors import (
    PriceFeedError,
)
from crypto_dash.services.fetch_runs import (
    STOPPING,
    RunTally,
    fail_run,
    finish_run,
    start_run,
)
from crypto_dash.services.price_points import PricePoint, write_points
from crypto_dash.services.principal import Principal, require_admin
from crypto_dash.services.watchlist import watched_coin_ids

logger = logging.getLogger(__name__)

LATEST_SOURCE = "coingecko"


@dataclass(frozen=True)
class FetchReport:
    run_id: int
    status: str  # ok | partial | rate_limited | failed
    calls_made: int
    points_written: int
    coins_requested: int
    error: str | None
    missing: tuple[str, ...] = ()  # watched coins CoinGecko gave no price for


def _chunks(ids: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _quote_point(quote: Quote, fetched_at: int) -> PricePoint:
    change = quote.change_24h_pct
    return PricePoint(
        coin_id=quote.coin_id,
        vs_currency=quote.vs_currency,
        observed_at=quote.last_updated_at,
        price=quote.price,
        market_cap=quote.market_cap,
        volume_24h=quote.volume_24h,
        change_24h_pct=None if change is None else float(change),
        source=LATEST_SOURCE,
        fetched_at=fetched_at,
    )


def fetch_latest(
    actor: Principal,
    db: Database,
    client: CoinGeckoClient,
    vs_currencies: Sequence[str],
    *,
    worker: str | None = None,
) -> FetchReport:
    """Fetch the latest prices of every watched coin and store the new ones."""
    with db.read_session() as session:
        require_admin(session, actor)
    ids = watched_coin_ids(db)
    run_id = start_run(db, "latest", len(ids), worker)
    calls_before = client.calls_made
    tally = RunTally()
    priced: set[str] = set()
    try:
        for chunk in _chunks(ids, MAX_IDS_PER_CALL):
            try:
                quotes = client.simple_price(chunk, vs_currencies)
            except PriceFeedError as exc:
                tally.failures.append(exc)
                if isinstance(exc, STOPPING):
                    break
                continue
            fetched_at = int(time.time())
            with db.session() as session:
                tally.points += write_points(
                    session, (_quote_point(q, fetched_at) for q in quotes)
                )
            tally.succeeded += 1
            priced.update(q.coin_id for q in quotes)
    except Exception as exc:
        fail_run(db, run_id, client.calls_made - calls_before, tally.points, exc)
        raise
    return _report_latest(
        db, run_id, client.calls_made - calls_before, ids, priced, tally
    )


def _report_latest(
    db: Database,
    run_id: int,
    calls: int,
    ids: list[str],
    priced: set[str],
    tally: RunTally,
) -> FetchReport:
    status, error = tally.status(), tally.error()
    missing = tuple(i for i in ids if i not in priced) if tally.succeeded else ()
    if missing and status == "ok":
        status = "partial"
        error = "CoinGecko has no price for: " + ", ".join(missing[:20]) + "."
    finish_run(db, run_id, status, calls, tally.points, error)
    logger.info(
        "fetch run %d: %s, %d calls, %d new points for %d coins",
        run_id,
        status,
        calls,
        tally.points,
        len(ids),
    )
    return FetchReport(run_id, status, calls, tally.points, len(ids), error, missing)
