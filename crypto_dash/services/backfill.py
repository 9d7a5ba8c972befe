"""History backfills from /coins/{id}/market_chart/range, resumable and idempotent.

Each coin's backfill is a BackfillJob whose cursor is the next chunk's start;
a chunk's points and the cursor move in one transaction, so a crash loses at
most the chunk in flight and a re-run resumes at the cursor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crypto_dash.coingecko import ChartPoint, CoinGeckoClient
from crypto_dash.db.engine import Database
from crypto_dash.db.models import BackfillJob, Coin, utcnow
from crypto_dash.errors import (
    PlanRestricted,
    PriceFeedError,
    ValidationError,
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

logger = logging.getLogger(__name__)

HISTORY_SOURCE = "coingecko_chart"
CHUNK_SECONDS = 89 * 86_400  # under 90 days, so CoinGecko answers hourly points
FREE_HISTORY = timedelta(days=365)
FREE_PLANS = ("keyless", "demo")


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
    tally: RunTally,
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
    run_id = start_run(db, "backfill", len(coin_ids), "backfill")
    calls_before = client.calls_made
    tally = RunTally()
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
        fail_run(db, run_id, client.calls_made - calls_before, tally.points, exc)
        raise
    calls = client.calls_made - calls_before
    status, error = tally.status(), tally.error()
    finish_run(db, run_id, status, calls, tally.points, error)
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
