"""Token primitives: the signing secret, access JWTs and opaque stored secrets.

Access tokens are HS256 JWTs; the accepted algorithm list is fixed here and a
token must carry every claim in ``REQUIRED_CLAIMS``, a ``typ`` header of
``at+jwt`` and a ``type`` claim of ``access``, so nothing else signed with the
key (or unsigned) passes for one.

Refresh tokens, browser sign-ins and sign-in tickets are opaque random strings
stored only as SHA-256 digests. Each starts with the user's token version
(``"3.<random>"``), so bumping the version ends them without a lookup table.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import stat
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jwt

from crypto_dash.errors import ConfigError, TokenInvalid
from crypto_dash.settings import PREFIX, Settings

logger = logging.getLogger(__name__)

ALGORITHMS = ["HS256"]  # fixed in code: never read from a token or a setting
ISSUER = "crypto_dash"
ACCESS_TYP = "at+jwt"
ACCESS_TYPE = "access"
REQUIRED_CLAIMS = ["sub", "iat", "exp", "jti", "iss", "type", "tv"]
LEEWAY_SECONDS = 10
SECRET_FILE = "jwt_secret"
MIN_SECRET_BYTES = 32
MAX_OPAQUE_LENGTH = 200
INVALID = "The token is invalid or has expired; sign in again."


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    token_version: int
    jti: str


def load_jwt_secret(settings: Settings) -> bytes:
    """Return the configured secret, or the one generated once into data_dir."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.encode()
    return _secret_from_file(Path(settings.data_dir) / SECRET_FILE)


def _secret_from_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    logger.info("generated a new token signing secret in %s", path)
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    variable = PREFIX + "JWT_SECRET"
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigError(
            variable,
            f"The token secret file {path} can be read by other users; "
            f"run 'chmod 600 {path}' and start again.",
        )
    value = path.read_text().strip().encode()
    if len(value) < MIN_SECRET_BYTES:
        raise ConfigError(
            variable,
            f"The token secret in {path} is shorter than {MIN_SECRET_BYTES} bytes; "
            "delete the file to have a new one generated.",
        )
    return value


def encode_access(
    secret: bytes, user_id: int, token_version: int, now: datetime, minutes: int
) -> str:
    """Sign a short-lived access token for one user at one token version."""
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "jti": uuid.uuid4().hex,
        "iss": ISSUER,
        "type": ACCESS_TYPE,
        "tv": token_version,
    }
    return jwt.encode(
        claims, secret, algorithm=ALGORITHMS[0], headers={"typ": ACCESS_TYP}
    )


def decode_access(secret: bytes, token: object) -> AccessClaims:
    """Verify an access token's signature, type and claims, or raise TokenInvalid."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise TokenInvalid(INVALID)
    try:
        decoded = jwt.decode_complete(
            token,
            secret,
            algorithms=ALGORITHMS,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.InvalidTokenError as exc:
        logger.info("access token refused: %s", exc.__class__.__name__)
        raise TokenInvalid(INVALID) from None
    header, payload = decoded["header"], decoded["payload"]
    if header.get("typ") != ACCESS_TYP or payload.get("type") != ACCESS_TYPE:
        logger.info("access token refused: wrong token type")
        raise TokenInvalid(INVALID)
    try:
        return AccessClaims(
            int(payload["sub"]), _as_int(payload["tv"]), str(payload["jti"])
        )
    except (TypeError, ValueError):
        logger.info("access token refused: malformed sub or tv claim")
        raise TokenInvalid(INVALID) from None


def _as_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


def new_opaque(token_version: int) -> str:
    """A fresh random secret (256 bits) tagged with the user's token version."""
    return f"{token_version}.{secrets.token_urlsafe(32)}"


def digest(value: str) -> str:
    """The stored form of an opaque secret (random, so a fast hash is enough)."""
    return hashlib.sha256(value.encode()).hexdigest()


def opaque_version(value: str) -> int | None:
    """The token version an opaque secret was issued at, or None if malformed."""
    prefix, _, rest = value.partition(".")
    if not rest or not prefix.isdigit():
        return None
    return int(prefix)


def looks_opaque(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_OPAQUE_LENGTH
        and opaque_version(value) is not None
    )
