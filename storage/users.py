"""Users and their credentials: API tokens (kept as sha256, optionally expiring) and passwords
(scrypt); a user disabled, removed, given another role."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from callqa.errors import InputError
from storage.managers import manager_for
from storage.models import Review, User, WebSession, now

ROLES = ("admin", "quality", "trainer", "manager")
_UNKNOWN = "scrypt$" + "00" * 16 + "$" + "00" * 64  # matches no password


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(candidate.hex(), digest)


def add_user(
    sessions: sessionmaker[Session], name: str, role: str, password: str | None = None
) -> str:
    """Create a user; returns its API token (shown once, stored only as a hash).

    A ``manager`` user is linked to the manager of that name, whose calls are theirs.
    """
    if role not in ROLES:
        raise InputError(f"role {role!r}: choose one of {', '.join(ROLES)}")
    if not name.strip():
        raise InputError("user name: empty")
    token = secrets.token_urlsafe(32)
    with sessions.begin() as db:
        if db.scalar(select(User.id).where(User.name == name)) is not None:
            raise InputError(f"user {name}: exists already")
        manager = None
        if role == "manager":
            manager = manager_for(db, name)
        if password is not None and len(password) < 8:
            raise InputError("password: at least 8 characters")
        db.add(User(name=name, role=role, token_hash=token_hash(token), manager=manager,
                    password_hash=hash_password(password) if password else None))  # fmt: skip
    return token


def set_password(sessions: sessionmaker[Session], name: str, password: str) -> str:
    """A new password, as after a leak: the user's browser sessions end and their API token is
    replaced (the new one is returned, shown once; an expiry it had carries over)."""
    if len(password) < 8:
        raise InputError("password: at least 8 characters")
    with sessions.begin() as db:
        user = _named(db, name)
        user.password_hash = hash_password(password)
        return _new_token(db, user, user.token_expires_at)


def new_token(sessions: sessionmaker[Session], name: str, days: float | None = None) -> str:
    """Replace the user's API token (the old one stops working at once); with ``days``, the new
    one expires then. Browser sessions end too. The new token, shown once."""
    with sessions.begin() as db:
        user = _named(db, name)
        return _new_token(db, user, now() + timedelta(days=days) if days else None)


def _new_token(db: Session, user: User, expires: datetime | None) -> str:
    token = secrets.token_urlsafe(32)
    user.token_hash, user.token_expires_at = token_hash(token), expires
    _sign_out(db, user)
    return token


def set_disabled(sessions: sessionmaker[Session], name: str, disabled: bool) -> None:
    """Disable a user (signed out; no sign-in, no API token; kept, with their reviews) or enable
    them again."""
    with sessions.begin() as db:
        user = _named(db, name)
        user.disabled_at = now() if disabled else None
        _sign_out(db, user)


def set_role(sessions: sessionmaker[Session], name: str, role: str) -> None:
    """Another role; a manager is linked to the manager of their name. Signed out everywhere."""
    if role not in ROLES:
        raise InputError(f"role {role!r}: choose one of {', '.join(ROLES)}")
    with sessions.begin() as db:
        user = _named(db, name)
        user.role = role
        user.manager = manager_for(db, name) if role == "manager" else None
        _sign_out(db, user)


def remove_user(sessions: sessionmaker[Session], name: str) -> None:
    """Delete a user who has reviewed nothing; a reviewer's name stays in the calls' history, so
    they are refused: disable them instead. The access log keeps their name either way."""
    with sessions.begin() as db:
        user = _named(db, name)
        reviews = db.scalar(select(func.count()).select_from(Review).where(Review.user_id == user.id))
        if reviews:
            raise InputError(f"user {name}: has {reviews} reviews in the calls' history; disable them instead")
        db.delete(user)


def users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.name)))


def _sign_out(db: Session, user: User) -> None:
    """End every browser session of ``user``."""
    db.execute(delete(WebSession).where(WebSession.user_id == user.id))


def _named(db: Session, name: str) -> User:
    user = db.scalar(select(User).where(User.name == name))
    if user is None:
        raise InputError(f"user {name}: no such user")
    return user


def user_by_token(db: Session, token: str) -> User | None:
    """The enabled user whose token this is, unless it has expired."""
    user = db.scalar(select(User).where(User.token_hash == token_hash(token)))
    if user is None or user.disabled_at is not None:
        return None
    return None if user.token_expires_at is not None and user.token_expires_at <= now() else user


def sign_in(
    sessions: sessionmaker[Session], name: str, password: str, hours: float = 12
) -> tuple[str, User]:
    """Check a user's password; a new browser session's key (for the cookie) and the user.

    A wrong name and a wrong password give the same error, so names cannot be probed.
    """
    with sessions.begin() as db:
        user = db.scalar(select(User).where(User.name == name))
        # An unknown name costs the same scrypt as a wrong password: timing tells nothing either.
        stored = user.password_hash if user is not None else _UNKNOWN
        if not check_password(password, stored) or user is None or user.disabled_at is not None:
            raise InputError("wrong user name or password")
        key = secrets.token_urlsafe(32)
        db.execute(delete(WebSession).where(WebSession.expires_at <= now()))  # ended ones go
        db.add(WebSession(key_hash=token_hash(key), user_id=user.id, csrf=secrets.token_urlsafe(24),
                          expires_at=now() + timedelta(hours=hours)))  # fmt: skip
        db.expunge(user)
    return key, user


def session_by_key(db: Session, key: str) -> WebSession | None:
    """The unexpired browser session whose cookie holds ``key``."""
    found = db.scalar(select(WebSession).where(WebSession.key_hash == token_hash(key)))
    return found if found is not None and found.expires_at > now() else None


def sign_out(sessions: sessionmaker[Session], key: str) -> None:
    with sessions.begin() as db:
        db.execute(delete(WebSession).where(WebSession.key_hash == token_hash(key)))
