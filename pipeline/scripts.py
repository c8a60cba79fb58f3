"""The script registry: packs stored as versions, and a name resolved to a stored version."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callqa.errors import InputError, TooLarge
from scripts_lib import bundled_packs, find_pack, load_pack, parse_pack
from storage.models import Script

MAX_PACK = 1 << 20  # bytes of YAML; the largest bundled pack is under 20 kB


def pack_text(name: str, raw: bytes) -> str:
    """An uploaded pack's text: refused whole when over MAX_PACK or not UTF-8, never cut short.
    Read ``MAX_PACK + 1`` bytes at most, so that a larger file is told apart."""
    if len(raw) > MAX_PACK:
        raise TooLarge(f"{name}: larger than {MAX_PACK // (1 << 20)} MiB, the most a pack may be")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text") from None


def register_script(sessions: sessionmaker[Session], name: str) -> int:
    """Store the pack ``name`` (bundled id or YAML path) as a script version; its id.

    A version is stored once; the same id and version with other content is refused.
    """
    load_pack(name)  # errors name the file and line
    return store_script(sessions, find_pack(name).read_text(encoding="utf-8"), name)


def store_script(sessions: sessionmaker[Session], source: str, name: str = "<pack>") -> int:
    """Store a pack's YAML text as a script version (validated; errors name ``name``); its id."""
    pack = parse_pack(source, name)
    with sessions.begin() as db:
        stored = db.scalar(
            select(Script).where(Script.pack_id == pack.id, Script.version == pack.version)
        )
        if stored is None:
            stored = Script(pack_id=pack.id, version=pack.version, title=pack.title,
                            language=pack.language, source=source)  # fmt: skip
            db.add(stored)
            db.flush()
        elif parse_pack(stored.source) != pack:
            raise InputError(
                f"script {pack.id} v{pack.version} is already stored with other content: raise its version"
            )
        return stored.id


def resolve_script(sessions: sessionmaker[Session], name: str) -> int:
    """``ID@VERSION``: a stored version; a stored ``ID`` that is no bundled pack or file: its
    newest stored version; anything else: a pack to store (see ``register_script``)."""
    if "@" not in name and not Path(name).exists() and name not in bundled_packs():
        with sessions() as db:
            newest = db.scalar(
                select(Script.id).where(Script.pack_id == name).order_by(Script.version.desc()).limit(1)
            )
        if newest is not None:
            return newest
    if "@" in name and not Path(name).exists():
        pack_id, _, version = name.rpartition("@")
        with sessions() as db:
            found = db.scalar(
                select(Script.id).where(Script.pack_id == pack_id, Script.version == int(version))
            ) if version.isdigit() else None  # fmt: skip
        if found is None:
            raise InputError(
                f"script {name}: no such stored version (give ID@VERSION, or a pack file)"
            )
        return found
    return register_script(sessions, name)
