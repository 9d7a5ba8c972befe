"""bcrypt hashing with the length rules checked before bcrypt ever sees them."""

from __future__ import annotations

import bcrypt

from crypto_dash.errors import ValidationError

MIN_LENGTH = 8
MAX_BYTES = 72  # bcrypt's limit; longer passwords are refused, never truncated


def check_password_rules(password: object, field: str = "password") -> str:
    """Refuse a password that is too short, too long for bcrypt, or not text."""
    if not isinstance(password, str):
        raise ValidationError.for_field(field, "The password must be text.")
    if len(password) < MIN_LENGTH:
        raise ValidationError.for_field(
            field, f"The password must have at least {MIN_LENGTH} characters."
        )
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise ValidationError.for_field(
            field,
            f"The password is longer than {MAX_BYTES} bytes; choose a shorter one "
            "(accented letters and symbols count as two or more bytes).",
        )
    return password


def hash_password(password: str, rounds: int = 12) -> str:
    """Hash a password that passed ``check_password_rules``."""
    check_password_rules(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    """Compare in constant time; a password bcrypt cannot take never matches."""
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_BYTES:
        return False
    return bcrypt.checkpw(encoded, password_hash.encode())
