"""The script registry: packs stored as versions, and a name resolved to a stored version."""

from __future__ import annotations

import re
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


# How a client names a script: a pack id, or ID@VERSION (a path is for the server's own settings).
_NAMED = re.compile(r"^[a-z][a-z0-9_]*(@[0-9]{1,9})?$")


def resolve_script(sessions: sessionmaker[Session], name: str, paths: bool = True) -> int:
    """``ID@VERSION``: a stored version; a stored ``ID`` that is no bundled pack (or file): its
    newest stored version; a bundled pack's id: that pack, stored now; with ``paths`` (the server's
    own settings and command line, never a client's field), a YAML file too, stored now (see
    ``register_script``). Without ``paths`` anything else is refused in the same words, whatever
    is on the server's disk."""
    if not paths and not _NAMED.match(name):
        raise InputError(f"script {name}: give a script pack's id, or ID@VERSION, not a path")
    is_file = paths and Path(name).exists()
    bundled = bundled_packs()
    if "@" not in name and not is_file and name not in bundled:
        newest = _newest(sessions, name)
        if newest is not None:
            return newest
        if not paths:
            raise InputError(f"script {name}: no such script pack (stored, or bundled: {', '.join(bundled)})")
    if "@" in name and not is_file:
        pack_id, _, version = name.rpartition("@")
        with sessions() as db:
            found = db.scalar(
                select(Script.id).where(Script.pack_id == pack_id, Script.version == int(version))
            ) if version.isdigit() else None  # fmt: skip
        if found is None:
            raise InputError(f"script {name}: no such stored version (give ID@VERSION{', or a pack file' if paths else ''})")
        return found
    # A client's bundled id is read from the package, never from a file of that name beside the server.
    return register_script(sessions, name if paths else str(bundled[name]))


def _newest(sessions: sessionmaker[Session], pack_id: str) -> int | None:
    with sessions() as db:
        query = select(Script.id).where(Script.pack_id == pack_id).order_by(Script.version.desc()).limit(1)
        return db.scalar(query)
