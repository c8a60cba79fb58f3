"""Stored script versions, listed and counted."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Script


def script_versions(db: Session) -> list[Script]:
    """Every stored script version, newest first per pack."""
    return list(db.scalars(select(Script).order_by(Script.pack_id, Script.version.desc())))


def newest_version(db: Session, pack_id: str) -> int:
    """The pack's newest stored version (0 when none is stored)."""
    return db.scalar(select(func.max(Script.version)).where(Script.pack_id == pack_id)) or 0


def script_sources(db: Session) -> list[tuple[int, str]]:
    """(id, YAML source) of every stored version, in the order they were stored."""
    return [(i, source) for i, source in db.execute(select(Script.id, Script.source).order_by(Script.id))]
