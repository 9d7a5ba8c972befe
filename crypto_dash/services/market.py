"""Latest prices of an organization's coins, and how fresh the price feed is."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Coin, FetchRun, MarketPrice, Role, WatchlistItem
from crypto_dash.db.types import format_decimal
from crypto_dash.services.history import clean_currency, query_buckets
from crypto_dash.services.organizations import _load
from crypto_dash.services.principal import Principal, acting_user, require_role

logger = logging.getLogger(__name__)

SPARKLINE_DAYS = 7
SPARKLINE_BUCKET = 2 * 3600  # 84 points over a week
SUCCESS = ("ok", "partial")


@dataclass(frozen=True)
class LatestPrice:
    """A watchlist coin's newest stored price; ``price`` is None before the first."""

    coin_id: str
    symbol: str
    name: str
    market_cap_rank: int | None
    vs_currency: str
    price: Decimal | None
    change_24h_pct: float | None
    market_cap: Decimal | None
    observed_at: datetime | None
    age: timedelta | None
    sparkline: tuple[float | None, ...]

    @property
    def price_text(self) -> str | None:
        return None if self.price is None else format_decimal(self.price)


@dataclass(frozen=True)
class FeedStatus:
    """The newest finished fetch run, and the last one that stored prices."""

    last_status: str | None  # ok | partial | rate_limited | failed; None: never ran
    last_run_at: datetime | None
    last_error: str | None
    last_success_at: datetime | None
    running: bool = False

    @property
    def problem(self) -> str | None:
        """A sentence for a banner when the last fetch did not go well, else None."""
        if self.last_status is None:
            return "No prices have been fetched yet."
        if self.last_status == "rate_limited":
            return "CoinGecko is rate-limiting us; prices will resume shortly."
        if self.last_status == "failed":
            reason = (self.last_error or "CoinGecko could not be reached").rstrip(".")
            return f"The last price fetch failed: {reason}."
        if self.last_status == "partial":
            return "The last price fetch got only some of the prices."
        return None


def latest_prices(
    actor: Principal,
    db: Database,
    org_id: uuid.UUID | str,
    vs_currency: str,
    *,
    now: datetime | None = None,
) -> list[LatestPrice]:
    """Each watchlist coin's newest price, its age and a 7-day sparkline."""
    vs_currency = clean_currency(vs_currency)
    now = now or datetime.now(UTC)
    with db.read_session() as session:
        org = _load(session, org_id)
        require_role(session, actor, org.id, Role.VIEWER, "see its prices")
        rows = session.execute(_latest_query(org.id, vs_currency)).all()
        sparklines = _sparklines(session, [row.id for row in rows], vs_currency, now)
    return [_latest(row, vs_currency, now, sparklines) for row in rows]


def _latest_query(org_id: uuid.UUID, vs_currency: str) -> sa.Select[tuple]:
    newest = aliased(MarketPrice)
    latest_at = (
        sa.select(sa.func.max(newest.observed_at))
        .where(newest.coin_id == Coin.id, newest.vs_currency == vs_currency)
        .scalar_subquery()
    )
    return (
        sa.select(
            Coin.id,
            Coin.symbol,
            Coin.name,
            Coin.market_cap_rank,
            MarketPrice.price,
            MarketPrice.change_24h_pct,
            MarketPrice.market_cap,
            MarketPrice.observed_at,
        )
        .join(WatchlistItem, WatchlistItem.coin_id == Coin.id)
        .outerjoin(
            MarketPrice,
            sa.and_(
                MarketPrice.coin_id == Coin.id,
                MarketPrice.vs_currency == vs_currency,
                MarketPrice.observed_at == latest_at,
            ),
        )
        .where(WatchlistItem.organization_id == org_id)
        .order_by(Coin.market_cap_rank.is_(None), Coin.market_cap_rank, Coin.id)
    )


def _sparklines(
    session: Session, coin_ids: list[str], vs_currency: str, now: datetime
) -> dict[str, tuple[float | None, ...]]:
    end = int(now.timestamp()) // SPARKLINE_BUCKET * SPARKLINE_BUCKET
    end += SPARKLINE_BUCKET
    start = end - SPARKLINE_DAYS * 86400
    frames = query_buckets(session, coin_ids, vs_currency, start, end, SPARKLINE_BUCKET)
    slots = range(start // SPARKLINE_BUCKET, end // SPARKLINE_BUCKET)
    lines = {}
    for coin_id, frame in frames.items():
        slot_of = (
            int(t.timestamp()) // SPARKLINE_BUCKET for t in frame["bucket_start"]
        )
        closes = dict(zip(slot_of, frame["close"], strict=True))
        lines[coin_id] = tuple(
            float(closes[slot]) if slot in closes else None for slot in slots
        )
    return lines


def _latest(
    row: sa.Row[tuple],
    vs_currency: str,
    now: datetime,
    sparklines: dict[str, tuple[float | None, ...]],
) -> LatestPrice:
    observed = (
        None
        if row.observed_at is None
        else datetime.fromtimestamp(row.observed_at, UTC)
    )
    return LatestPrice(
        coin_id=row.id,
        symbol=row.symbol,
        name=row.name,
        market_cap_rank=row.market_cap_rank,
        vs_currency=vs_currency,
        price=row.price,
        change_24h_pct=row.change_24h_pct,
        market_cap=row.market_cap,
        observed_at=observed,
        age=None if observed is None else max(now - observed, timedelta(0)),
        sparkline=sparklines.get(row.id, ()),
    )


def feed_status(actor: Principal, db: Database) -> FeedStatus:
    """How the scheduled price fetches are going (backfills are not counted)."""
    with db.read_session() as session:
        acting_user(session, actor)
        runs = sa.select(FetchRun).where(FetchRun.kind != "backfill")
        newest = runs.order_by(FetchRun.started_at.desc(), FetchRun.id.desc())
        last = session.scalars(
            newest.where(FetchRun.status != "running").limit(1)
        ).first()
        success = session.scalars(
            newest.where(FetchRun.status.in_(SUCCESS)).limit(1)
        ).first()
        running = session.scalars(
            newest.where(FetchRun.status == "running").limit(1)
        ).first()
        if last is None:
            return FeedStatus(None, None, None, None, running is not None)
        return FeedStatus(
            last_status=last.status,
            last_run_at=last.finished_at or last.started_at,
            last_error=last.error,
            last_success_at=(
                None if success is None else success.finished_at or success.started_at
            ),
            running=running is not None,
        )
