"""User accounts: create, list, disable, reset passwords, make administrators."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto_dash.db.engine import Database
from crypto_dash.db.models import User
from crypto_dash.errors import NotFound, ValidationError
from crypto_dash.services import audit
from crypto_dash.services.passwords import check_password_rules, hash_password
from crypto_dash.services.principal import Principal, require_admin

logger = logging.getLogger(__name__)

USERNAME = re.compile(r"^[\w.@+-]{1,150}$")


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    is_admin: bool
    is_active: bool
    created_at: datetime


def _view(user: User) -> UserView:
    return UserView(
        user.id, user.username, user.is_admin, user.is_active, user.created_at
    )


def clean_username(raw: object) -> str:
    if not isinstance(raw, str) or not USERNAME.match(raw.strip()):
        raise ValidationError.for_field(
            "username",
            "A user name has 1 to 150 letters, digits or the characters . @ + - _.",
        )
    return raw.strip()


def user_count(db: Database) -> int:
    """How many accounts exist (the first-start screen needs to know if none)."""
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def create_user(
    actor: Principal,
    db: Database,
    username: str,
    password: str,
    *,
    is_admin: bool = False,
    rounds: int = 12,
) -> UserView:
    """Create an account (administrators only)."""
    username = clean_username(username)
    check_password_rules(password)
    with db.session() as session:
        require_admin(session, actor)
        return _insert_user(session, actor, username, password, is_admin, rounds)


def _insert_user(
    session: Session,
    actor: Principal,
    username: str,
    password: str,
    is_admin: bool,
    rounds: int,
) -> UserView:
    key = username.casefold()
    if session.scalar(select(User.id).where(User.username_key == key)) is not None:
        raise ValidationError.for_field(
            "username", f"The user name {username!r} is taken."
        )
    user = User(
        username=username,
        username_key=key,
        password_hash=hash_password(password, rounds),
        is_admin=is_admin,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise ValidationError.for_field(
            "username", f"The user name {username!r} is taken."
        ) from None
    audit.record(
        session,
        actor,
        "user.created",
        object_type="user",
        object_id=user.id,
        username=username,
        is_admin=is_admin,
    )
    return _view(user)


def list_users(actor: Principal, db: Database) -> list[UserView]:
    """List every account, by name (administrators only)."""
    with db.read_session() as session:
        require_admin(session, actor)
        return [
            _view(u) for u in session.scalars(select(User).order_by(User.username_key))
        ]


def find_user(actor: Principal, db: Database, username: str) -> UserView:
    """Look an account up by name, case-insensitively (administrators only)."""
    with db.read_session() as session:
        require_admin(session, actor)
        return _view(_by_name(session, username))


def _by_name(session: Session, username: str) -> User:
    user = session.scalar(
        select(User).where(User.username_key == username.strip().casefold())
    )
    if user is None:
        raise NotFound(f"There is no user {username!r}.")
    return user


def _by_id(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def set_active(actor: Principal, db: Database, user_id: int, active: bool) -> UserView:
    """Disable or re-enable an account; disabling ends its sessions at once."""
    action = "user.enabled" if active else "user.disabled"
    refusal = None if active else "You cannot disable your own account."
    return _set_flag(actor, db, user_id, "is_active", active, action, refusal)


def set_admin(actor: Principal, db: Database, user_id: int, admin: bool) -> UserView:
    """Grant or withdraw administrator rights."""
    action = "user.made_admin" if admin else "user.admin_removed"
    refusal = None if admin else "You cannot withdraw your own administrator rights."
    return _set_flag(actor, db, user_id, "is_admin", admin, action, refusal)


def _set_flag(
    actor: Principal,
    db: Database,
    user_id: int,
    flag: str,
    value: bool,
    action: str,
    refusal_for_self: str | None,
) -> UserView:
    """Change a flag of an account, end its tokens, and audit it."""
    with db.session() as session:
        require_admin(session, actor)
        user = _by_id(session, user_id)
        if refusal_for_self and user.id == actor.user_id:
            raise ValidationError.for_field("user", refusal_for_self)
        setattr(user, flag, value)
        user.token_version += 1
        audit.record(
            session,
            actor,
            action,
            object_type="user",
            object_id=user.id,
            username=user.username,
        )
        return _view(user)


def reset_password(
    actor: Principal, db: Database, user_id: int, password: str, *, rounds: int = 12
) -> UserView:
    """Set a new password; the user's tokens and sign-ins stop working."""
    check_password_rules(password)
    with db.session() as session:
        require_admin(session, actor)
        user = _by_id(session, user_id)
        set_password_hash(user, hash_password(password, rounds))
        audit.record(
            session,
            actor,
            "user.password_reset",
            object_type="user",
            object_id=user.id,
            username=user.username,
        )
        return _view(user)


def set_password_hash(user: User, password_hash: str) -> None:
    """Store a new hash and end every token issued before it."""
    user.password_hash = password_hash
    user.password_changed_at = datetime.now(UTC)
    user.token_version += 1
    user.failed_login_count = 0
    user.locked_until = None
