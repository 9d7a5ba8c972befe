"""The coin catalogue: stored from CoinGecko, searched by name or symbol.

Symbols repeat across coins (several coins call themselves "btc"), so every
coin is keyed and shown with its CoinGecko id, and search results say when a
symbol is shared.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Insert, Table, case, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crypto_dash.coingecko import CatalogueCoin, CoinGeckoClient, MarketCoin
from crypto_dash.db.engine import Database
from crypto_dash.db.models import Coin, utcnow
from crypto_dash.errors import ValidationError
from crypto_dash.services.principal import Principal, acting_user, require_admin

logger = logging.getLogger(__name__)

BATCH = 1000
MAX_LIMIT = 100
MARKET_PAGE_SIZE = 250
COINS: Table = Coin.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class CoinView:
    id: str
    symbol: str
    name: str
    market_cap_rank: int | None
    market_cap: Decimal | None
    symbol_shared: bool = False

    @property
    def label(self) -> str:
        """How a picker shows the coin: name, symbol and the id that tells it apart."""
        return f"{self.name} ({self.symbol.upper()}) · {self.id}"


@dataclass(frozen=True)
class CatalogueReport:
    coins_listed: int
    coins_ranked: int


def insert_for(dialect: str) -> Callable[[Table], Insert]:
    """The dialect's INSERT, which knows ON CONFLICT."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert  # type: ignore[no-any-return]


def _batches(rows: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def store_catalogue(session: Session, coins: Iterable[CatalogueCoin]) -> int:
    """Insert new coins and refresh names and symbols of known ones."""
    now = utcnow()
    rows = [
        {"id": c.id, "symbol": c.symbol, "name": c.name, "updated_at": now}
        for c in coins
    ]
    statement = insert_for(session.get_bind().dialect.name)(COINS)
    statement = statement.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=["id"],
        set_={
            "symbol": statement.excluded.symbol,  # type: ignore[attr-defined]
            "name": statement.excluded.name,  # type: ignore[attr-defined]
            "updated_at": statement.excluded.updated_at,  # type: ignore[attr-defined]
        },
    )
    for batch in _batches(rows):
        session.execute(statement, list(batch))
    return len(rows)


def store_market_coins(session: Session, coins: Iterable[MarketCoin]) -> int:
    """Insert or update coins with their rank and market cap."""
    now = utcnow()
    rows = [
        {
            "id": c.id,
            "symbol": c.symbol,
            "name": c.name,
            "market_cap_rank": c.market_cap_rank,
            "market_cap": c.market_cap,
            "updated_at": now,
        }
        for c in coins
    ]
    if not rows:
        return 0
    statement = insert_for(session.get_bind().dialect.name)(COINS)
    excluded = statement.excluded  # type: ignore[attr-defined]
    statement = statement.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=["id"],
        set_={key: excluded[key] for key in rows[0] if key != "id"},
    )
    for batch in _batches(rows):
        session.execute(statement, list(batch))
    return len(rows)


def refresh_catalogue(
    actor: Principal,
    db: Database,
    client: CoinGeckoClient,
    *,
    vs_currency: str = "usd",
    market_pages: int = 4,
) -> CatalogueReport:
    """Store CoinGecko's coin list, then ranks and market caps of the top coins."""
    with db.read_session() as session:
        require_admin(session, actor)
    listed = client.coins_list()
    ranked: list[MarketCoin] = []
    for page in range(1, market_pages + 1):
        found = client.coins_markets(vs_currency, page=page, per_page=MARKET_PAGE_SIZE)
        ranked.extend(found)
        if len(found) < MARKET_PAGE_SIZE:
            break
    with db.session() as session:
        store_catalogue(session, listed)
        store_market_coins(session, ranked)
    logger.info(
        "coin catalogue refreshed: %d coins, %d with ranks", len(listed), len(ranked)
    )
    return CatalogueReport(coins_listed=len(listed), coins_ranked=len(ranked))


def fetch_coin(
    db: Database, client: CoinGeckoClient, coin_id: str, vs_currency: str = "usd"
) -> CoinView | None:
    """Ask CoinGecko for one coin and store it; None when it does not know it."""
    found = [
        c for c in client.coins_markets(vs_currency, ids=[coin_id]) if c.id == coin_id
    ]
    if not found:
        return None
    with db.session() as session:
        store_market_coins(session, found)
    coin = found[0]
    return CoinView(
        coin.id, coin.symbol, coin.name, coin.market_cap_rank, coin.market_cap
    )


def get_coin(session: Session, coin_id: str) -> CoinView | None:
    row = session.get(Coin, coin_id)
    return None if row is None else _view(row)


def _view(row: Coin, shared: bool = False) -> CoinView:
    return CoinView(
        row.id, row.symbol, row.name, row.market_cap_rank, row.market_cap, shared
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_coins(
    actor: Principal, db: Database, query: str, limit: int = 20
) -> list[CoinView]:
    """Find stored coins by name, symbol or id, case-insensitively; best first."""
    text = " ".join(str(query).split()).lower()
    if not text:
        return []
    if len(text) > 100:
        raise ValidationError.for_field("query", "Search for at most 100 characters.")
    limit = min(MAX_LIMIT, max(1, int(limit)))
    symbol, name = func.lower(Coin.symbol), func.lower(Coin.name)
    pattern = _like(text)
    statement = (
        select(Coin)
        .where(
            or_(
                symbol == text,
                name.like(pattern, escape="\\"),
                symbol.like(pattern, escape="\\"),
                Coin.id.like(pattern, escape="\\"),
            )
        )
        .order_by(
            case((symbol == text, 0), (name == text, 1), else_=2),
            case((Coin.market_cap_rank.is_(None), 1), else_=0),
            Coin.market_cap_rank,
            Coin.name,
            Coin.id,
        )
        .limit(limit)
    )
    with db.read_session() as session:
        acting_user(session, actor)
        rows = list(session.scalars(statement))
        shared = _shared_symbols(session, {row.symbol for row in rows})
        return [_view(row, row.symbol in shared) for row in rows]


def catalogue_size(actor: Principal, db: Database) -> int:
    """How many coins the stored catalogue holds (any signed-in user)."""
    with db.read_session() as session:
        acting_user(session, actor)
        return session.scalar(select(func.count()).select_from(Coin)) or 0


def _shared_symbols(session: Session, symbols: set[str]) -> set[str]:
    if not symbols:
        return set()
    counted = session.execute(
        select(Coin.symbol)
        .where(Coin.symbol.in_(symbols))
        .group_by(Coin.symbol)
        .having(func.count(literal(1)) > 1)
    )
    return {row[0] for row in counted}
