"""Each organization's watchlist of coins; the fetch reads the union of them all.

Editors, owners and admins change a watchlist; viewers read it. A coin must be
in the stored catalogue before it can be watched: with a client given, an
unknown id is first looked up on CoinGecko and stored; without one, adding it
fails with a message that says how to fix it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, select
from sqlalchemy.exc import IntegrityError

from crypto_dash.coingecko import CoinGeckoClient
from crypto_dash.db.engine import Database
from crypto_dash.db.models import Coin, Role, WatchlistItem
from crypto_dash.errors import NotFound, ValidationError
from crypto_dash.services import audit, coins
from crypto_dash.services.organizations import _load
from crypto_dash.services.prices_input import parse_symbol
from crypto_dash.services.principal import Principal, require_role

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchedCoin:
    coin_id: str
    symbol: str
    name: str
    market_cap_rank: int | None
    added_at: datetime


def _coin_id(raw: str) -> str:
    return parse_symbol(raw, field="coin_id").lower()


def _unknown(coin_id: str, looked_up: bool) -> ValidationError:
    if looked_up:
        message = f"CoinGecko knows no coin with the id {coin_id!r}."
    else:
        message = (
            f"There is no coin {coin_id!r} in the catalogue; refresh the catalogue "
            "or check the CoinGecko id."
        )
    return ValidationError.for_field("coin_id", message)


def _ensure_in_catalogue(
    db: Database, coin_id: str, client: CoinGeckoClient | None
) -> None:
    with db.read_session() as session:
        if session.get(Coin, coin_id) is not None:
            return
    if client is None or coins.fetch_coin(db, client, coin_id) is None:
        raise _unknown(coin_id, client is not None)


def add_to_watchlist(
    actor: Principal,
    db: Database,
    org_id: uuid.UUID | str,
    coin_id: str,
    *,
    client: CoinGeckoClient | None = None,
) -> WatchedCoin:
    """Watch a coin in the organization (editors, owners, admins); no-op if watched."""
    coin_id = _coin_id(coin_id)
    with db.read_session() as session:
        org_uuid = _load(session, org_id).id
        require_role(session, actor, org_uuid, Role.EDITOR, "change the watchlist")
    _ensure_in_catalogue(db, coin_id, client)
    with db.session() as session:
        org = _load(session, org_uuid)
        require_role(session, actor, org.id, Role.EDITOR, "change the watchlist")
        item = session.scalar(_item_query(org.id, coin_id))
        if item is None:
            item = WatchlistItem(
                organization_id=org.id, coin_id=coin_id, added_by=actor.user_id
            )
            session.add(item)
            try:
                session.flush()
            except IntegrityError:
                raise _unknown(coin_id, False) from None
            audit.record(
                session,
                actor,
                "watchlist.added",
                object_type="coin",
                object_id=coin_id,
                organization_id=org.id,
                organization_name=org.name,
            )
        coin = session.get(Coin, coin_id)
        assert coin is not None
        return WatchedCoin(
            coin.id, coin.symbol, coin.name, coin.market_cap_rank, item.added_at
        )


def _item_query(org_id: uuid.UUID, coin_id: str) -> Select[tuple[WatchlistItem]]:
    return select(WatchlistItem).where(
        WatchlistItem.organization_id == org_id, WatchlistItem.coin_id == coin_id
    )


def remove_from_watchlist(
    actor: Principal, db: Database, org_id: uuid.UUID | str, coin_id: str
) -> None:
    """Stop watching a coin (editors, owners, admins); its stored prices stay."""
    coin_id = _coin_id(coin_id)
    with db.session() as session:
        org = _load(session, org_id)
        require_role(session, actor, org.id, Role.EDITOR, "change the watchlist")
        removed = session.execute(
            delete(WatchlistItem).where(
                WatchlistItem.organization_id == org.id,
                WatchlistItem.coin_id == coin_id,
            )
        )
        if not removed.rowcount:  # type: ignore[attr-defined]
            raise NotFound(f"{coin_id!r} is not on this organization's watchlist.")
        audit.record(
            session,
            actor,
            "watchlist.removed",
            object_type="coin",
            object_id=coin_id,
            organization_id=org.id,
            organization_name=org.name,
        )


def list_watchlist(
    actor: Principal, db: Database, org_id: uuid.UUID | str
) -> list[WatchedCoin]:
    """The organization's watched coins by market-cap rank (any member)."""
    with db.read_session() as session:
        org = _load(session, org_id)
        require_role(session, actor, org.id, Role.VIEWER, "see the watchlist")
        rows = session.execute(
            select(Coin, WatchlistItem.added_at)
            .join(WatchlistItem, WatchlistItem.coin_id == Coin.id)
            .where(WatchlistItem.organization_id == org.id)
            .order_by(Coin.market_cap_rank.is_(None), Coin.market_cap_rank, Coin.id)
        )
        return [
            WatchedCoin(coin.id, coin.symbol, coin.name, coin.market_cap_rank, added)
            for coin, added in rows
        ]


def watched_coin_ids(db: Database) -> list[str]:
    """Every coin any organization watches, for the scheduled fetch."""
    with db.read_session() as session:
        ids = session.scalars(
            select(WatchlistItem.coin_id).distinct().order_by(WatchlistItem.coin_id)
        )
        return list(ids)
