"""Parsing of exact prices and coin symbols, shared by entries and ingestion."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from crypto_dash.errors import ValidationError

MAX_PRICE = Decimal("1e18")
MAX_DIGITS = 60
SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def parse_price(raw: object, field: str = "price") -> Decimal:
    """Parse a price exactly; refuse anything not finite and positive."""
    if isinstance(raw, bool) or raw is None:
        raise ValidationError.for_field(field, "The price must be a number.")
    if isinstance(raw, float):
        raw = repr(raw)
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValidationError.for_field(
            field,
            f"The price must be a number such as 65000.12, not {str(raw)[:40]!r}.",
        ) from None
    if not value.is_finite():
        raise ValidationError.for_field(field, "The price must be a finite number.")
    if (isinstance(raw, str) and "e" in raw.lower()) or value.as_tuple().exponent > 0:  # type: ignore[operator]
        # 1e2 would come back as 100: a price is kept as the digits it was given.
        raise ValidationError.for_field(
            field, "Write the price in plain digits, such as 100 or 0.00012."
        )
    if value <= 0:
        raise ValidationError.for_field(field, "The price must be greater than zero.")
    if value >= MAX_PRICE:
        raise ValidationError.for_field(field, "The price is too large to be real.")
    if len(value.as_tuple().digits) > MAX_DIGITS or value.as_tuple().exponent < -40:  # type: ignore[operator]
        raise ValidationError.for_field(
            field, "The price can have at most 40 decimal places."
        )
    return value


def parse_symbol(raw: object, field: str = "symbol") -> str:
    """Validate a coin symbol or CoinGecko id such as BTC or bitcoin."""
    if not isinstance(raw, str) or not SYMBOL.match(raw.strip()):
        raise ValidationError.for_field(
            field,
            "The coin must be a symbol or CoinGecko id such as BTC or bitcoin "
            "(letters, digits, '.', '_' or '-').",
        )
    return raw.strip()
