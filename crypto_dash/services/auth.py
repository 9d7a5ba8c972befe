"""Sign-in for every entry point: passwords, tokens, browser sessions, first start.

Failed sign-ins are throttled per account (``crypto_dash.services.throttle``).
An unknown user name costs one bcrypt check against a dummy hash and gets the
same message as a wrong password. The lock itself does tell that an account
exists, after five failures; and anyone can lock an account for a while by
failing on purpose (the lock is short, and a success resets the counter).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from crypto_dash.db.engine import Database
from crypto_dash.db.models import AppState, Membership, RefreshToken, Role, User
from crypto_dash.errors import (
    AccountLocked,
    InvalidCredentials,
    TokenInvalid,
    ValidationError,
)
from crypto_dash.services import audit, throttle, tokens
from crypto_dash.services.passwords import (
    MAX_BYTES,
    check_password_rules,
    hash_password,
    verify_password,
)
from crypto_dash.services.principal import Principal, acting_user
from crypto_dash.services.throttle import BAD_CREDENTIALS
from crypto_dash.services.users import clean_username
from crypto_dash.settings import Settings

logger = logging.getLogger(__name__)

TICKET_SECONDS = 60
SETUP_KEY = "setup_code_sha256"
SETUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TICKET_EXPIRED = "The sign-in has expired; please sign in again."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def utcnow() -> datetime:
    return datetime.now(UTC)


def principal_for(session: Session, user: User) -> Principal:
    """Build the verified principal of a user row, with its current roles."""
    rows = session.execute(
        select(Membership.organization_id, Membership.role).where(
            Membership.user_id == user.id
        )
    )
    return Principal(
        user_id=user.id,
        username=user.username,
        is_admin=user.is_admin,
        token_version=user.token_version,
        memberships={org_id: Role(role) for org_id, role in rows},
    )


class Authenticator:
    """The one place that turns credentials, tokens and cookies into principals."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self._clock = clock
        self._secret = tokens.load_jwt_secret(settings)
        self._dummy: str | None = None

    # -- passwords and throttling -------------------------------------------

    def authenticate(self, username: str, password: str) -> Principal:
        """Check a user name and password; raise one message for every failure."""
        if not isinstance(username, str) or not isinstance(password, str):
            raise InvalidCredentials(BAD_CREDENTIALS)
        if len(password.encode("utf-8")) > MAX_BYTES:
            raise ValidationError.for_field(
                "password",
                f"The password is longer than {MAX_BYTES} bytes, so it cannot be "
                "right; passwords here are at most that long.",
            )
        attempt = throttle.admit(self.db, username.strip().casefold(), self._clock())
        if attempt.retry_after:
            raise AccountLocked(
                "Too many failed sign-ins; try again in "
                f"{attempt.retry_after} seconds.",
                retry_after=attempt.retry_after,
            )
        if attempt.user_id is None or attempt.password_hash is None:
            verify_password(password, self._dummy_hash())
            logger.info("sign-in failed: unknown user name")
            raise InvalidCredentials(BAD_CREDENTIALS)
        if not verify_password(password, attempt.password_hash) or not (
            attempt.is_active
        ):
            throttle.record_failure(self.db, attempt.user_id, self._clock())
            raise InvalidCredentials(BAD_CREDENTIALS)
        return throttle.record_success(self.db, attempt.user_id, principal_for)

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = hash_password(secrets.token_urlsafe(12), self._rounds())
        return self._dummy

    def _rounds(self) -> int:
        return self.settings.bcrypt_rounds

    # -- API tokens -----------------------------------------------------------

    def issue_tokens(self, principal: Principal) -> TokenPair:
        """Start a refresh-token family for a verified principal."""
        now = self._clock()
        with self.db.session() as session:
            user = _live_user(session, principal)
            refresh = self._add_secret(
                session, user, "api", uuid.uuid4().hex, self._refresh_expiry(now)
            )
            return TokenPair(self._access(user, now), refresh)

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate a refresh token; a spent one revokes its whole family."""
        if not tokens.looks_opaque(refresh_token):
            raise TokenInvalid(tokens.INVALID)
        now = self._clock()
        reused: str | None = None
        with self.db.session() as session:
            row = self._find(session, refresh_token, "api")
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                raise TokenInvalid(tokens.INVALID)
            if not _claim(session, row.id, now):
                reused = row.family_id
                _revoke_family(session, row.family_id, now)
            else:
                user = session.get(User, row.user_id)
                if not _current(user, refresh_token):
                    raise TokenInvalid(tokens.INVALID)
                assert user is not None
                new = self._add_secret(
                    session, user, "api", row.family_id, self._refresh_expiry(now)
                )
                return TokenPair(self._access(user, now), new)
        logger.warning("refresh token reused; revoked token family %s", reused)
        raise TokenInvalid(tokens.INVALID)

    def principal_from_access_token(self, token: str) -> Principal:
        """Verify an access token and return its user's current principal."""
        claims = tokens.decode_access(self._secret, token)
        with self.db.read_session() as session:
            user = session.get(User, claims.user_id)
            if user is None or not user.is_active:
                logger.info("access token refused: user gone or disabled")
                raise TokenInvalid(tokens.INVALID)
            if user.token_version != claims.token_version:
                logger.info("access token refused: token version is outdated")
                raise TokenInvalid(tokens.INVALID)
            return principal_for(session, user)

    def _access(self, user: User, now: datetime) -> str:
        minutes = self.settings.access_token_minutes
        return tokens.encode_access(
            self._secret, user.id, user.token_version, now, minutes
        )

    def _refresh_expiry(self, now: datetime) -> datetime:
        return now + timedelta(days=self.settings.refresh_token_days)

    def _add_secret(
        self,
        session: Session,
        user: User,
        client: str,
        family: str,
        expires_at: datetime,
    ) -> str:
        value = tokens.new_opaque(user.token_version)
        session.add(
            RefreshToken(
                user_id=user.id,
                token_hash=tokens.digest(value),
                family_id=family,
                client=client,
                issued_at=self._clock(),
                expires_at=expires_at,
            )
        )
        return value

    def _find(self, session: Session, value: str, client: str) -> RefreshToken | None:
        return session.scalar(
            select(RefreshToken).where(
                RefreshToken.token_hash == tokens.digest(value),
                RefreshToken.client == client,
            )
        )

    # -- browser sign-in --------------------------------------------------------

    def start_browser_session(self, principal: Principal) -> str:
        """Make a one-time, 60-second ticket that the browser trades for a cookie."""
        now = self._clock()
        with self.db.session() as session:
            user = _live_user(session, principal)
            session.execute(
                delete(RefreshToken).where(
                    RefreshToken.client == "ticket", RefreshToken.expires_at < now
                )
            )
            expires = now + timedelta(seconds=TICKET_SECONDS)
            return self._add_secret(session, user, "ticket", uuid.uuid4().hex, expires)

    def redeem_ticket(self, ticket: str) -> str:
        """Spend a ticket once and return the sign-in cookie's value."""
        if not tokens.looks_opaque(ticket):
            raise TokenInvalid(TICKET_EXPIRED)
        now = self._clock()
        with self.db.session() as session:
            row = self._find(session, ticket, "ticket")
            if row is None or row.expires_at <= now or not _claim(session, row.id, now):
                raise TokenInvalid(TICKET_EXPIRED)
            user = session.get(User, row.user_id)
            if not _current(user, ticket):
                raise TokenInvalid(TICKET_EXPIRED)
            assert user is not None
            expires = self._refresh_expiry(now)
            cookie = self._add_secret(session, user, "browser", row.family_id, expires)
        logger.info("browser sign-in started for user %s", row.user_id)
        return cookie

    def principal_from_session(self, cookie_value: str | None) -> Principal | None:
        """The principal a sign-in cookie stands for, or None if it is no good."""
        if not tokens.looks_opaque(cookie_value):
            return None
        assert cookie_value is not None
        now = self._clock()
        with self.db.read_session() as session:
            row = self._find(session, cookie_value, "browser")
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                return None
            user = session.get(User, row.user_id)
            if not _current(user, cookie_value):
                return None
            assert user is not None
            return principal_for(session, user)

    def end_browser_session(self, cookie_value: str) -> None:
        """Revoke a sign-in cookie on the server (logout)."""
        if not tokens.looks_opaque(cookie_value):
            return
        with self.db.session() as session:
            ended = session.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.token_hash == tokens.digest(cookie_value),
                    RefreshToken.client == "browser",
                    RefreshToken.revoked_at.is_(None),
                )
                .values(revoked_at=self._clock())
                .execution_options(synchronize_session=False)
            )
        if ended.rowcount:
            logger.info("browser sign-in ended")

    # -- first start --------------------------------------------------------------

    def setup_needed(self) -> bool:
        """True while no account exists at all."""
        with self.db.read_session() as session:
            return session.scalar(select(User.id).limit(1)) is None

    def ensure_setup_code(self) -> str | None:
        """With no users yet, make a one-time setup code and log it for the operator."""
        with self.db.session() as session:
            session.execute(delete(AppState).where(AppState.key == SETUP_KEY))
            if session.scalar(select(User.id).limit(1)) is not None:
                return None
            code = "-".join(
                "".join(secrets.choice(SETUP_ALPHABET) for _ in range(4))
                for _ in range(5)
            )
            session.add(AppState(key=SETUP_KEY, value=tokens.digest(_normal(code))))
        logger.warning(
            "No administrator exists yet. Open the dashboard and enter the one-time "
            "setup code %s, or run: python -m crypto_dash create-admin NAME",
            code,
        )
        return code

    def create_first_admin(
        self, setup_code: str, username: str, password: str
    ) -> Principal:
        """Create the first administrator with the code from the server log."""
        username = clean_username(username)
        check_password_rules(password)
        password_hash = hash_password(password, self._rounds())
        with self.db.session() as session:
            stored = session.get(AppState, SETUP_KEY, with_for_update=True)
            if session.scalar(select(User.id).limit(1)) is not None:
                raise ValidationError.for_field(
                    "setup_code",
                    "Setup is finished: an administrator exists, so sign in instead.",
                )
            given = tokens.digest(_normal(setup_code))
            if stored is None or not hmac.compare_digest(stored.value, given):
                raise ValidationError.for_field(
                    "setup_code",
                    "That setup code is not right; copy it from the server log.",
                )
            user = User(
                username=username,
                username_key=username.casefold(),
                password_hash=password_hash,
                is_admin=True,
            )
            session.add(user)
            session.delete(stored)
            session.flush()
            audit.record(
                session,
                Principal.system(),
                "user.created",
                object_type="user",
                object_id=user.id,
                username=username,
                is_admin=True,
                via="setup code",
            )
            return principal_for(session, user)


def _normal(code: object) -> str:
    if not isinstance(code, str):
        return ""
    return "".join(code.split()).replace("-", "").upper()


def _live_user(session: Session, principal: Principal) -> User:
    user = acting_user(session, principal)
    if user is None:
        raise TokenInvalid("The command line cannot sign in; use a user account.")
    return user


def _current(user: User | None, secret: str) -> bool:
    return (
        user is not None
        and user.is_active
        and tokens.opaque_version(secret) == user.token_version
    )


def _claim(session: Session, row_id: int, now: datetime) -> bool:
    """Mark a secret used, atomically; False when it was already spent."""
    result = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == row_id,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _revoke_family(session: Session, family_id: str, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
