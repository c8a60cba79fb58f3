"""Stored script versions: listed, counted, read back as packs."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scripts_lib import ScriptPack, parse_pack
from storage.models import Script


class Titles(NamedTuple):
    """What one script version calls its items, by id."""

    pack: str
    checkpoints: dict[str, str]
    objections: dict[str, str]


def version_titles(db: Session, script_ids: Collection[int]) -> dict[int, Titles]:
    """The titles of each of these script versions: two packs may share an id ("greeting") and
    call it differently, so a call's items are named by its own version."""
    rows = db.execute(select(Script.id, Script.source).where(Script.id.in_(set(script_ids))))
    return {script_id: _titles(script_id, source) for script_id, source in rows}


def newest_titles(db: Session) -> dict[str, Titles]:
    """Per pack id, the titles of its newest stored version."""
    newest = select(func.max(Script.id)).group_by(Script.pack_id)
    return {t.pack: t for t in version_titles(db, list(db.scalars(newest))).values()}


@lru_cache(maxsize=256)
def _titles(script_id: int, source: str) -> Titles:
    pack = parse_pack(source)
    return Titles(pack.id, {c.id: c.title for c in pack.checkpoints}, {o.id: o.title for o in pack.objections})


def script_versions(db: Session) -> list[Script]:
    """Every stored script version, newest first per pack."""
    return list(db.scalars(select(Script).order_by(Script.pack_id, Script.version.desc())))


def newest_version(db: Session, pack_id: str) -> int:
    """The pack's newest stored version (0 when none is stored)."""
    return db.scalar(select(func.max(Script.version)).where(Script.pack_id == pack_id)) or 0


def stored_pack(db: Session, script_id: int) -> ScriptPack:
    """The pack of a stored script version."""
    return parse_pack(db.get_one(Script, script_id).source)
