"""Call metadata from the phone system or CRM: a call log in the batch folder, or a sidecar per recording.

A call log is ``calls.csv`` (with a header row) or ``calls.jsonl`` (one JSON
object per line) at the top of the batch folder. A sidecar is ``NAME.json``
next to ``NAME.wav``. The fields, all optional but ``file`` in a log:

    file          the recording's path, relative to the batch folder
    manager       the manager's name
    direction     inbound or outbound
    started_at    ISO 8601, e.g. 2026-11-27T09:15:00
    client_phone  the client's number
    deal_id       the CRM deal or lead id
    outcome       won, lost, or the CRM's word for it

A bad row is reported with its file and line and skipped: its call is still
processed, without that metadata. Without any metadata, the manager can come
from the file name (``CALLQA_MANAGER_PATTERN``, a regex with ``(?P<manager>...)``).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String

from storage import days
from storage.models import Call, Manager

LOGS = ("calls.csv", "calls.jsonl")
DIRECTIONS = ("inbound", "outbound")


class MetadataError(ValueError):
    """One bad row or file; ``str()`` names the file, the line and the field."""


def _length(column: Any) -> int:
    assert isinstance(column.type, String) and column.type.length, column
    return int(column.type.length)


_SURROGATE = re.compile("[\ud800-\udfff]")
# The most characters each text field may hold: those of the database's columns.
LENGTHS = {"manager": _length(Manager.__table__.c.name)} | {
    name: _length(Call.__table__.c[name]) for name in ("client_phone", "deal_id", "outcome")
}


@dataclass(frozen=True)
class CallInfo:
    """What the phone system or CRM says about a call; MetadataError names a field too long."""

    manager: str | None = None
    direction: str | None = None
    started_at: datetime | None = None
    client_phone: str | None = None
    deal_id: str | None = None
    outcome: str | None = None

    def __post_init__(self) -> None:
        for name in ("manager", "direction", "client_phone", "deal_id", "outcome"):
            value = getattr(self, name)
            if value is not None and _SURROGATE.search(value):  # a JSON escape such as \ud800 gives one
                raise MetadataError(f"{name}: not valid Unicode (it holds a lone surrogate, which no database holds)")
        object.__setattr__(self, "started_at", _started(self.started_at))
        for name, most in LENGTHS.items():
            value = getattr(self, name)
            if value is not None and len(value) > most:
                raise MetadataError(f"{name}: {len(value)} characters, longer than the {most} allowed")


def _started(moment: datetime | str | None) -> datetime | None:
    """``storage.days.started_at``, its complaint naming the field."""
    if moment is None:
        return None
    try:
        return days.started_at(moment)
    except ValueError as error:
        shown = moment if isinstance(moment, str) else moment.isoformat()
        raise MetadataError(f"started_at: {shown}: {error}") from None


_FIELDS = {f.name for f in fields(CallInfo)}


def json_object(text: str) -> dict[str, Any]:
    """A JSON object's text as a dict; MetadataError says why it is not JSON, not an object, or
    nested past reason."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise MetadataError(f"not JSON ({error.msg})") from None
    except RecursionError:
        raise MetadataError("nested too deeply to be metadata") from None
    if not isinstance(data, dict):
        raise MetadataError("not a JSON object")
    return data


def read_call_log(folder: Path) -> tuple[dict[str, CallInfo], list[str]]:
    """The call log's rows by relative recording path, and one message per bad row or file."""
    found: dict[str, CallInfo] = {}
    problems: list[str] = []
    for name in LOGS:
        path = folder / name
        if not path.is_file():
            continue
        try:
            rows = _rows(path)
        except MetadataError as error:
            problems.append(str(error))
            continue
        for line, row in rows:
            try:
                if isinstance(row, str):
                    raise MetadataError(row)
                key = str(row.get("file") or "").strip()
                if not key:
                    raise MetadataError("file: missing")
                found[Path(key).as_posix()] = parse(row, exclude={"file"})
            except MetadataError as error:
                problems.append(f"{path}:{line}: {error}")
    return found, problems


def read_sidecar(recording: Path, shown: str | None = None) -> CallInfo | None:
    """``NAME.json`` next to ``NAME.wav``, if there is one; MetadataError names what is wrong, and
    the file as ``shown`` (where it was fetched from) or else by its path."""
    path = recording.with_suffix(".json")
    if not path.is_file():
        return None
    name = shown or str(path)
    try:
        return parse(json_object(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as error:
        raise MetadataError(f"{name}: not a JSON object ({error})") from None
    except MetadataError as error:
        raise MetadataError(f"{name}: {error}") from None


def manager_from_name(relative: str, pattern: str | None) -> str | None:
    match = re.search(pattern, relative) if pattern else None
    return match.group("manager") if match else None


def parse(row: dict[str, Any], exclude: set[str] = frozenset()) -> CallInfo:  # type: ignore[assignment]
    if None in row:
        raise MetadataError("more values than the header has columns")
    unknown = set(row) - _FIELDS - exclude
    if unknown:
        raise MetadataError(f"{min(unknown)}: unknown field (known: {', '.join(sorted(_FIELDS))})")
    values = {
        k: (str(v).strip() or None) if v is not None else None
        for k, v in row.items()
        if k in _FIELDS
    }
    direction = values.get("direction")
    if direction is not None and direction.lower() not in DIRECTIONS:
        raise MetadataError(f"direction: {direction!r} is not inbound or outbound")
    return CallInfo(
        manager=values.get("manager"),
        direction=direction.lower() if direction else None,
        started_at=_started(values.get("started_at")),
        client_phone=values.get("client_phone"),
        deal_id=values.get("deal_id"),
        outcome=(values.get("outcome") or "").lower() or None,
    )


def _rows(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    """(line number, row) pairs; a row that cannot be read is the reason instead."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise MetadataError(f"{path}: cannot read the call log ({error})") from None
    if path.suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "file" not in reader.fieldnames:
            raise MetadataError(f"{path}:1: the header row needs a 'file' column")
        return [(i, dict(row)) for i, row in enumerate(reader, 2)]
    rows: list[tuple[int, dict[str, Any] | str]] = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((i, json_object(line)))
        except MetadataError as error:
            rows.append((i, str(error)))
    return rows
