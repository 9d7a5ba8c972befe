"""Prices in: the latest fetch for every watched coin, and history backfills.

Every point is keyed by (coin, currency, observed time) and inserted with ON
CONFLICT DO NOTHING, so a repeated fetch or a re-run backfill writes nothing
twice. The observed time of a latest quote is CoinGecko's ``last_updated_at``.
Each run is recorded as a FetchRun, failures included: upstream trouble is
recorded and reported, never raised. A batch that fails validation is refused
whole by the client, so nothing partial is stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from crypto_dash.coingecko import MAX_IDS_PER_CALL, ChartPoint, CoinGeckoClient, Quote
from crypto_dash.db.engine import Database
from crypto_dash.db.models import BackfillJob, Coin, FetchRun, MarketPrice, utcnow
from crypto_dash.db.types import format_decimal
from crypto_dash.errors import (
    BadApiKey,
    PlanRestricted,
    PriceFeedError,
    RateLimited,
    UpstreamUnavailable,
    ValidationError,
)
from crypto_dash.services.coins import insert_for
from crypto_dash.services.principal import Principal, require_admin
from crypto_dash.services.watchlist import watched_coin_ids

logger = logging.getLogger(__name__)

LATEST_SOURCE = "coingecko"
HISTORY_SOURCE = "coingecko_chart"
WRITE_BATCH = 50_000
CHUNK_SECONDS = 89 * 86_400  # under 90 days, so CoinGecko answers hourly points
FREE_HISTORY = timedelta(days=365)
FREE_PLANS = ("keyless", "demo")
# Failures after which further calls in the same run would fail the same way.
STOPPING = (RateLimited, UpstreamUnavailable, BadApiKey, PlanRestricted)
MARKET_PRICES: Table = MarketPrice.__table__  # type: ignore[assignment]
POINT_COLUMNS = (
    "coin_id",
    "vs_currency",
    "observed_at",
    "price",
    "price_float",
    "market_cap",
    "volume_24h",
    "change_24h_pct",
    "source",
    "fetched_at",
)


# -- the write path ---------------------------------------------------------------


@dataclass(frozen=True)
class PricePoint:
    coin_id: str
    vs_currency: str
    observed_at: int
    price: Decimal
    market_cap: Decimal | None
    volume_24h: Decimal | None
    change_24h_pct: float | None
    source: str
    fetched_at: int


_compiled: dict[str, tuple[str, bool]] = {}


def _insert_sql(session: Session) -> tuple[str, bool]:
    """The INSERT ... ON CONFLICT DO NOTHING for this dialect, compiled once."""
    dialect = session.get_bind().dialect
    if dialect.name not in _compiled:
        statement = insert_for(dialect.name)(MARKET_PRICES).on_conflict_do_nothing(  # type: ignore[attr-defined]
            index_elements=["coin_id", "vs_currency", "observed_at"]
        )
        compiled = statement.compile(dialect=dialect, column_keys=list(POINT_COLUMNS))
        positional = bool(compiled.positiontup)
        if positional and tuple(compiled.positiontup) != POINT_COLUMNS:
            raise RuntimeError("market price INSERT binds columns in another order")
        _compiled[dialect.name] = (compiled.string, positional)
    return _compiled[dialect.name]


def _text(value: Decimal | None) -> str | None:
    """A decimal as the positional text ExactDecimal stores on SQLite."""
    if value is None:
        return None
    text = str(value)  # much faster than format(); the same unless exponent form
    return format_decimal(value) if "E" in text else text


def _render_sqlite(points: Iterable[PricePoint]) -> Iterator[tuple[Any, ...]]:
    for p in points:
        price = str(p.price)
        if "E" in price:
            price = format_decimal(p.price)
        yield (
            p.coin_id,
            p.vs_currency,
            p.observed_at,
            price,
            float(price),
            _text(p.market_cap),
            _text(p.volume_24h),
            p.change_24h_pct,
            p.source,
            p.fetched_at,
        )


def _render_postgresql(points: Iterable[PricePoint]) -> Iterator[dict[str, Any]]:
    for p in points:
        yield {
            "coin_id": p.coin_id,
            "vs_currency": p.vs_currency,
            "observed_at": p.observed_at,
            "price": p.price,
            "price_float": float(p.price),
            "market_cap": p.market_cap,
            "volume_24h": p.volume_24h,
            "change_24h_pct": p.change_24h_pct,
            "source": p.source,
            "fetched_at": p.fetched_at,
        }


def write_points(
    session: Session, points: Iterable[PricePoint], *, batch_size: int = WRITE_BATCH
) -> int:
    """Insert points in the session's transaction; return how many were new.

    Bind values are rendered once here (exact decimals as text on SQLite, as
    Decimal on PostgreSQL) and sent as large executemany batches of one
    statement compiled by SQLAlchemy Core; duplicates are skipped by the
    unique key. (Executing the Core statement with a list of dicts runs the
    type processors per value and measured at about 0.4 of bare sqlite3.)
    """
    sql, positional = _insert_sql(session)
    # SQLite binds by position (qmark); psycopg binds by name (pyformat).
    rows: Iterator[Any] = (
        _render_sqlite(points) if positional else _render_postgresql(points)
    )
    connection = session.connection()
    written = 0
    while batch := list(islice(rows, batch_size)):
        written += connection.exec_driver_sql(sql, batch).rowcount
    return written


# -- runs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchReport:
    run_id: int
    status: str  # ok | partial | rate_limited | failed
    calls_made: int
    points_written: int
    coins_requested: int
    error: str | None
    missing: tuple[str, ...] = ()  # watched coins CoinGecko gave no price for


@dataclass
class _Tally:
    """What a run did so far, and how it ended."""

    succeeded: int = 0
    points: int = 0
    failures: list[PriceFeedError] = field(default_factory=list)

    def status(self) -> str:
        if not self.failures:
            return "ok"
        if self.succeeded:
            return "partial"
        if any(isinstance(f, RateLimited) for f in self.failures):
            return "rate_limited"
        return "failed"

    def error(self) -> str | None:
        messages = dict.fromkeys(f.message for f in self.failures)
        return " ".join(messages) or None


def _start_run(db: Database, kind: str, coins: int, worker: str | None) -> int:
    with db.session() as session:
        run = FetchRun(
            kind=kind, status="running", coins_requested=coins, worker=worker
        )
        session.add(run)
        session.flush()
        return run.id


def _finish_run(
    db: Database, run_id: int, status: str, calls: int, points: int, error: str | None
) -> None:
    with db.session() as session:
        run = session.get(FetchRun, run_id)
        assert run is not None
        run.status, run.calls_made, run.points_written = status, calls, points
        run.error, run.finished_at = error, utcnow()


def _fail_run(
    db: Database, run_id: int, calls: int, points: int, exc: Exception
) -> None:
    logger.error("fetch run %d broke down", run_id, exc_info=exc)
    try:
        _finish_run(
            db, run_id, "failed", calls, points, f"Internal error: {exc!r}"[:500]
        )
    except Exception:
        logger.exception("could not record the failure of fetch run %d", run_id)


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
    run_id = _start_run(db, "latest", len(ids), worker)
    calls_before = client.calls_made
    tally = _Tally()
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
        _fail_run(db, run_id, client.calls_made - calls_before, tally.points, exc)
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
    tally: _Tally,
) -> FetchReport:
    status, error = tally.status(), tally.error()
    missing = tuple(i for i in ids if i not in priced) if tally.succeeded else ()
    if missing and status == "ok":
        status = "partial"
        error = "CoinGecko has no price for: " + ", ".join(missing[:20]) + "."
    _finish_run(db, run_id, status, calls, tally.points, error)
    logger.info(
        "fetch run %d: %s, %d calls, %d new points for %d coins",
        run_id,
        status,
        calls,
        tally.points,
        len(ids),
    )
    return FetchReport(run_id, status, calls, tally.points, len(ids), error, missing)


# -- backfill -------------------------------------------------------------------------


@dataclass(frozen=True)
class BackfillProgress:
    coin_id: str
    vs_currency: str
    job_id: int
    range_start: int
    range_end: int
    cursor: int
    points_written: int  # by this job so far
    coin_index: int  # 0-based position of the coin in the request
    coins_total: int

    @property
    def fraction(self) -> float:
        """How much of the whole request is done, from 0 to 1."""
        span = max(1, self.range_end - self.range_start)
        done = min(1.0, (self.cursor - self.range_start) / span)
        return (self.coin_index + done) / max(1, self.coins_total)


@dataclass(frozen=True)
class BackfillJobView:
    id: int
    coin_id: str
    vs_currency: str
    range_start: int
    range_end: int
    cursor: int
    status: str  # pending | running | done | failed
    points_written: int
    error: str | None


@dataclass(frozen=True)
class BackfillReport:
    run_id: int
    status: str  # ok | partial | rate_limited | failed
    calls_made: int
    points_written: int
    jobs: tuple[BackfillJobView, ...]
    error: str | None


def _job_view(job: BackfillJob) -> BackfillJobView:
    return BackfillJobView(
        job.id,
        job.coin_id,
        job.vs_currency,
        job.range_start,
        job.range_end,
        job.cursor,
        job.status,
        job.points_written,
        job.error,
    )


def _epoch(value: datetime, name: str) -> int:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError.for_field(name, f"{name} must be a time with a zone.")
    return int(value.timestamp())


def _check_request(
    db: Database,
    actor: Principal,
    client: CoinGeckoClient,
    coin_ids: Sequence[str],
    start: int,
    end: int,
) -> None:
    if start >= end:
        raise ValidationError.for_field("since", "The start must be before the end.")
    oldest = datetime.now(UTC) - FREE_HISTORY
    if client.plan in FREE_PLANS and start < int(oldest.timestamp()) - 60:
        raise PlanRestricted(
            f"The {client.plan} CoinGecko plan only gives history from the past 365 "
            "days; ask for fewer days or use a paid plan."
        )
    with db.read_session() as session:
        require_admin(session, actor)
        known = set(session.scalars(select(Coin.id).where(Coin.id.in_(coin_ids))))
    unknown = [c for c in coin_ids if c not in known]
    if unknown:
        raise ValidationError.for_field(
            "coin_ids",
            "Not in the coin catalogue: " + ", ".join(unknown[:10]) + ". "
            "Refresh the catalogue or check the CoinGecko ids.",
        )


def _open_job(
    db: Database, actor: Principal, coin_id: str, vs: str, start: int, end: int
) -> BackfillJob:
    """Resume the coin's unfinished job that covers ``start``, or start a new one."""
    with db.session() as session:
        job = session.scalar(
            select(BackfillJob)
            .where(
                BackfillJob.coin_id == coin_id,
                BackfillJob.vs_currency == vs,
                BackfillJob.status != "done",
                BackfillJob.range_start <= start,
            )
            .order_by(BackfillJob.id.desc())
            .limit(1)
        )
        if job is None:
            job = BackfillJob(
                coin_id=coin_id,
                vs_currency=vs,
                range_start=start,
                range_end=end,
                cursor=start,
                status="pending",
                requested_by=actor.user_id,
            )
            session.add(job)
        else:
            logger.info(
                "resuming backfill job %d of %s at %d", job.id, coin_id, job.cursor
            )
            job.range_end = max(job.range_end, end)
        job.status, job.error, job.updated_at = "running", None, utcnow()
        session.flush()
        return job


def _chart_point(coin_id: str, vs: str, point: ChartPoint, now: int) -> PricePoint:
    return PricePoint(
        coin_id=coin_id,
        vs_currency=vs,
        observed_at=point.observed_at,
        price=point.price,
        market_cap=point.market_cap,
        volume_24h=point.volume_24h,
        change_24h_pct=None,
        source=HISTORY_SOURCE,
        fetched_at=now,
    )


def _store_chunk(
    db: Database,
    job_id: int,
    coin_id: str,
    vs: str,
    points: list[ChartPoint],
    upto: int,
) -> BackfillJob:
    """Write one chunk and move the job's cursor in the same transaction."""
    with db.session() as session:
        job = session.get(BackfillJob, job_id)
        assert job is not None
        now = int(time.time())
        inside = (p for p in points if job.range_start <= p.observed_at <= upto)
        written = write_points(
            session, (_chart_point(coin_id, vs, p, now) for p in inside)
        )
        job.cursor, job.points_written = upto, job.points_written + written
        job.status = "done" if upto >= job.range_end else "running"
        job.updated_at = utcnow()
        return job


def _mark_failed(db: Database, job_id: int, exc: PriceFeedError) -> BackfillJob:
    with db.session() as session:
        job = session.get(BackfillJob, job_id)
        assert job is not None
        job.status, job.error, job.updated_at = "failed", exc.message, utcnow()
        return job


def _backfill_coin(
    db: Database,
    client: CoinGeckoClient,
    job: BackfillJob,
    tally: _Tally,
    report: Callable[[BackfillJob], None],
) -> BackfillJob:
    report(job)
    while job.cursor < job.range_end:
        upto = min(job.cursor + CHUNK_SECONDS, job.range_end)
        try:
            points = client.market_chart_range(
                job.coin_id, job.vs_currency, job.cursor, upto
            )
        except PriceFeedError as exc:
            tally.failures.append(exc)
            return _mark_failed(db, job.id, exc)
        before = job.points_written
        job = _store_chunk(db, job.id, job.coin_id, job.vs_currency, points, upto)
        tally.points += job.points_written - before
        report(job)
    return job


def backfill(
    actor: Principal,
    db: Database,
    client: CoinGeckoClient,
    coin_ids: Sequence[str],
    vs_currency: str,
    since: datetime,
    *,
    until: datetime | None = None,
    progress: Callable[[BackfillProgress], None] | None = None,
) -> BackfillReport:
    """Store the coins' history from ``since`` (admins); resumable and idempotent."""
    coin_ids = list(dict.fromkeys(coin_ids))
    start = _epoch(since, "since")
    end = _epoch(until or datetime.now(UTC), "until")
    _check_request(db, actor, client, coin_ids, start, end)
    run_id = _start_run(db, "backfill", len(coin_ids), "backfill")
    calls_before = client.calls_made
    tally = _Tally()
    jobs: list[BackfillJobView] = []
    try:
        for index, coin_id in enumerate(coin_ids):
            job = _open_job(db, actor, coin_id, vs_currency, start, end)

            def report(job: BackfillJob, index: int = index) -> None:
                if progress is not None:
                    progress(_progress(job, index, len(coin_ids)))

            job = _backfill_coin(db, client, job, tally, report)
            jobs.append(_job_view(job))
            if job.status == "done":
                tally.succeeded += 1
            elif tally.failures and isinstance(tally.failures[-1], STOPPING):
                break
    except Exception as exc:
        _fail_run(db, run_id, client.calls_made - calls_before, tally.points, exc)
        raise
    calls = client.calls_made - calls_before
    status, error = tally.status(), tally.error()
    _finish_run(db, run_id, status, calls, tally.points, error)
    logger.info(
        "backfill run %d: %s, %d calls, %d new points for %d coins",
        run_id,
        status,
        calls,
        tally.points,
        len(coin_ids),
    )
    return BackfillReport(run_id, status, calls, tally.points, tuple(jobs), error)


def _progress(job: BackfillJob, index: int, total: int) -> BackfillProgress:
    return BackfillProgress(
        coin_id=job.coin_id,
        vs_currency=job.vs_currency,
        job_id=job.id,
        range_start=job.range_start,
        range_end=job.range_end,
        cursor=job.cursor,
        points_written=job.points_written,
        coin_index=index,
        coins_total=total,
    )
