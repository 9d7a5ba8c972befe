"""One typed settings object, read from ``CRYPTO_DASH_*`` environment variables.

Every setting has a default and a one-line help text; ``SETTINGS`` is the single
list of them, and the README's configuration table is checked against it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crypto_dash.errors import ConfigError

logger = logging.getLogger(__name__)

PREFIX = "CRYPTO_DASH_"
PLANS = ("keyless", "demo", "pro")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _parse_str(variable: str, raw: str) -> str:
    return raw


def _parse_optional(variable: str, raw: str) -> str | None:
    return raw or None


def _parse_on_off(variable: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise ConfigError(variable, f"{variable} must be 'on' or 'off', not {raw!r}.")


def _int_parser(low: int, high: int) -> Callable[[str, str], int]:
    def parse(variable: str, raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ConfigError(
                variable, f"{variable} must be a whole number, not {raw!r}."
            ) from None
        if not low <= value <= high:
            raise ConfigError(
                variable, f"{variable} must be between {low} and {high}, not {value}."
            )
        return value

    return parse


def _choice_parser(choices: tuple[str, ...]) -> Callable[[str, str], str]:
    def parse(variable: str, raw: str) -> str:
        value = raw.strip().lower()
        if value.upper() in choices:
            return value.upper()
        if value in choices:
            return value
        allowed = ", ".join(choices)
        raise ConfigError(
            variable, f"{variable} must be one of {allowed}, not {raw!r}."
        )

    return parse


def _parse_currencies(variable: str, raw: str) -> tuple[str, ...]:
    codes = tuple(code.strip().lower() for code in raw.split(",") if code.strip())
    if not codes or not all(code.isalnum() and len(code) <= 10 for code in codes):
        raise ConfigError(
            variable,
            f"{variable} must be a comma-separated list of currency codes such as "
            f"'usd,eur', not {raw!r}.",
        )
    return codes


def _parse_database_url(variable: str, raw: str) -> str:
    if raw and not raw.startswith(("sqlite:", "postgresql:", "postgresql+")):
        raise ConfigError(
            variable,
            f"{variable} must be a sqlite:/// or postgresql:// URL, not "
            f"{_redact_url(raw)!r}.",
        )
    return raw


def _parse_url(variable: str, raw: str) -> str | None:
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise ConfigError(
            variable, f"{variable} must start with http:// or https://, not {raw!r}."
        )
    return raw.rstrip("/")


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, default (as text) and help."""

    attribute: str
    default: str
    help: str
    parse: Callable[[str, str], Any] = _parse_str

    @property
    def variable(self) -> str:
        return PREFIX + self.attribute.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir", "data", "Folder for the SQLite database and generated secrets."
    ),
    Setting(
        "database_url",
        "",
        "SQLAlchemy URL of the database; empty means data_dir/crypto_dash.sqlite3.",
        _parse_database_url,
    ),
    Setting(
        "jwt_secret",
        "",
        "Secret (32+ bytes) signing tokens; empty means one generated in data_dir.",
        _parse_optional,
    ),
    Setting(
        "access_token_minutes",
        "15",
        "Lifetime of an access token, in minutes.",
        _int_parser(1, 24 * 60),
    ),
    Setting(
        "refresh_token_days",
        "14",
        "Lifetime of a refresh token and of a browser sign-in, in days.",
        _int_parser(1, 365),
    ),
    Setting(
        "bcrypt_rounds",
        "12",
        "bcrypt cost of new password hashes: 12 to 16 (4 to 11 only for tests).",
        _int_parser(4, 16),
    ),
    Setting(
        "cookie_secure",
        "off",
        "Mark the sign-in cookie Secure (turn on when served over HTTPS).",
        _parse_on_off,
    ),
    Setting(
        "coingecko_plan",
        "keyless",
        "CoinGecko plan: keyless, demo or pro.",
        _choice_parser(PLANS),
    ),
    Setting(
        "coingecko_api_key",
        "",
        "CoinGecko API key for the demo or pro plan; sent in a header, never logged.",
        _parse_optional,
    ),
    Setting(
        "coingecko_base_url",
        "",
        "Override of the CoinGecko base URL (a proxy, or the fake server for demos).",
        _parse_url,
    ),
    Setting(
        "coingecko_calls_per_minute",
        "5",
        "Client-side pace of CoinGecko calls; match it to your plan.",
        _int_parser(1, 10_000),
    ),
    Setting(
        "coingecko_timeout_seconds",
        "10",
        "Timeout of one CoinGecko request, in seconds.",
        _int_parser(1, 120),
    ),
    Setting(
        "fetch_interval_seconds",
        "300",
        "Seconds between two scheduled price fetches.",
        _int_parser(1, 24 * 3600),
    ),
    Setting(
        "scheduler",
        "on",
        "Run the price scheduler inside the server: on, or off for web replicas.",
        _parse_on_off,
    ),
    Setting(
        "vs_currencies",
        "usd",
        "Comma-separated quote currencies to fetch, e.g. usd,eur.",
        _parse_currencies,
    ),
    Setting(
        "log_level",
        "INFO",
        "Log level: DEBUG, INFO, WARNING, ERROR or CRITICAL.",
        _choice_parser(LOG_LEVELS),
    ),
)


@dataclass(frozen=True)
class Settings:
    """The parsed settings; build one with ``load_settings`` or directly in tests."""

    data_dir: Path = Path("data")
    database_url: str = ""
    jwt_secret: str | None = None
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    bcrypt_rounds: int = 12
    cookie_secure: bool = False
    coingecko_plan: str = "keyless"
    coingecko_api_key: str | None = None
    coingecko_base_url: str | None = None
    coingecko_calls_per_minute: int = 5
    coingecko_timeout_seconds: int = 10
    fetch_interval_seconds: int = 300
    scheduler: bool = True
    vs_currencies: tuple[str, ...] = field(default=("usd",))
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if not self.database_url:
            path = (self.data_dir / "crypto_dash.sqlite3").resolve()
            object.__setattr__(self, "database_url", f"sqlite:///{path}")
        self._check_coingecko()

    def _check_coingecko(self) -> None:
        if self.coingecko_plan in ("demo", "pro") and not self.coingecko_api_key:
            raise ConfigError(
                PREFIX + "COINGECKO_API_KEY",
                f"{PREFIX}COINGECKO_API_KEY must be set for the "
                f"{self.coingecko_plan} CoinGecko plan.",
            )
        if self.jwt_secret is not None and len(self.jwt_secret.encode()) < 32:
            raise ConfigError(
                PREFIX + "JWT_SECRET",
                f"{PREFIX}JWT_SECRET must be at least 32 bytes long.",
            )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def redacted(self) -> dict[str, Any]:
        """Return the settings as a dict with secrets masked, for logs."""
        secrets = {"jwt_secret", "coingecko_api_key"}
        shown: dict[str, Any] = {}
        for setting in SETTINGS:
            value = getattr(self, setting.attribute)
            shown[setting.attribute] = (
                "***" if value and setting.attribute in secrets else value
            )
        shown["database_url"] = _redact_url(self.database_url)
        return shown


def _redact_url(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read every setting from ``environ`` (default ``os.environ``)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.variable, setting.default)
        values[setting.attribute] = setting.parse(setting.variable, raw)
    return Settings(**values)


def settings_table() -> str:
    """The README's configuration table, made from ``SETTINGS``."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for setting in SETTINGS:
        default = f"`{setting.default}`" if setting.default else "(empty)"
        lines.append(f"| `{setting.variable}` | {default} | {setting.help} |")
    return "\n".join(lines)
