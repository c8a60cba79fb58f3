"""Stored script versions: listed, counted, read back as packs."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scripts_lib import ScriptPack, parse_pack
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


def stored_pack(db: Session, script_id: int) -> ScriptPack:
    """The pack of a stored script version."""
    return parse_pack(db.get_one(Script, script_id).source)
