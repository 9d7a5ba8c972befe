"""Database layer: models, engines and migrations."""

from crypto_dash.db.engine import Database, make_engine
from crypto_dash.db.types import format_decimal

__all__ = ["Database", "format_decimal", "make_engine"]
