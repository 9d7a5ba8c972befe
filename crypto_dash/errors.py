"""The one exception tree of crypto_dash.

Every error a user can cause or meet is one of these; its message is a sentence
meant for that user, and its attributes carry the detail for the log.

    CryptoDashError
    ├── ConfigError              a setting has a bad value; start-up stops
    ├── ValidationError          bad input; ``field_errors`` maps field -> sentence
    ├── NotFound                 missing, or belongs to an organization you are not in
    ├── PermissionDenied         your role may not do this
    ├── AuthError                sign-in and tokens
    │   ├── InvalidCredentials   wrong user name or password (never says which)
    │   ├── AccountLocked        too many failures; ``retry_after`` seconds
    │   └── TokenInvalid         expired, forged, revoked or of the wrong type
    ├── StorageError             the database cannot be reached or the disk is full
    └── PriceFeedError           CoinGecko could not give us prices
        ├── RateLimited          HTTP 429 or a Cloudflare 1015 page; ``retry_after``
        ├── BadApiKey            the key is missing, wrong, or for the other host
        ├── PlanRestricted       the plan does not allow the request (e.g. > 365 days)
        ├── UnknownCoin          a coin id CoinGecko does not know
        ├── UpstreamUnavailable  timeouts, connection errors, 5xx
        └── BadPayload           an answer we refuse to store
"""

from __future__ import annotations

from collections.abc import Mapping


class CryptoDashError(Exception):
    """Root of every error crypto_dash raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(CryptoDashError):
    """A setting is missing or has a value we cannot use."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.variable = variable


class ValidationError(CryptoDashError):
    """Input that breaks a rule; nothing was written."""

    def __init__(
        self, message: str, field_errors: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.field_errors = dict(field_errors or {})

    @classmethod
    def for_field(cls, field: str, message: str) -> ValidationError:
        return cls(message, {field: message})


class NotFound(CryptoDashError):
    """The object does not exist, or the caller may not know that it does."""


class PermissionDenied(CryptoDashError):
    """The caller's role does not allow the action."""


class AuthError(CryptoDashError):
    """Base of sign-in and token failures."""


class InvalidCredentials(AuthError):
    """Wrong user name or password; the message never says which."""


class AccountLocked(AuthError):
    """Too many failed sign-ins; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TokenInvalid(AuthError):
    """A token that is expired, forged, revoked or of the wrong kind."""


class StorageError(CryptoDashError):
    """The database refused the work: unreachable, locked for too long, disk full."""


class PriceFeedError(CryptoDashError):
    """CoinGecko did not give us usable prices."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(PriceFeedError):
    """CoinGecko (or its CDN) is rate-limiting us."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class BadApiKey(PriceFeedError):
    """The API key is missing, invalid, or meant for the other host."""


class PlanRestricted(PriceFeedError):
    """The CoinGecko plan does not allow this request."""


class UnknownCoin(PriceFeedError):
    """CoinGecko does not know this coin id."""

    def __init__(self, message: str, *, coin_id: str, status: int | None = 404) -> None:
        super().__init__(message, status=status)
        self.coin_id = coin_id


class UpstreamUnavailable(PriceFeedError):
    """CoinGecko could not be reached, timed out, or answered with a 5xx."""


class BadPayload(PriceFeedError):
    """CoinGecko answered with data we refuse to store."""
