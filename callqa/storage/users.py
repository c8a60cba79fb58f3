"""Users and their credentials: API tokens (kept as sha256) and passwords (scrypt)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callqa.errors import InputError
from callqa.storage.models import Manager, User

ROLES = ("admin", "quality", "trainer", "manager")


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
            manager = db.scalar(select(Manager).where(Manager.name == name)) or Manager(name=name)
        db.add(User(name=name, role=role, token_hash=token_hash(token), manager=manager,
                    password_hash=hash_password(password) if password else None))  # fmt: skip
    return token


def user_by_token(db: Session, token: str) -> User | None:
    return db.scalar(select(User).where(User.token_hash == token_hash(token)))
