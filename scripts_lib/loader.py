"""Loading script packs from YAML, refusing a bad one with the file, the line and what is wrong."""

from __future__ import annotations

import difflib
import os
import re
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from callqa.errors import InputError
from scripts_lib.schema import ID_PATTERN, ID_RULE, ScriptPack

PACKS = Path(__file__).parent / "packs"


class ScriptError(InputError):
    """An invalid script pack. ``str(error)`` reads ``"<file>:<line>: <where>: <what>"``."""


EXAMPLE = Path(__file__).parent / "example_pack.yaml"


def example_pack(pack_id: str) -> str:
    """The commented example pack, every key in it, as the YAML text of a pack named ``pack_id``."""
    if not re.fullmatch(ID_PATTERN, pack_id):
        raise ScriptError(f"{pack_id}: a pack id is {ID_RULE}")
    return re.sub(r"^id: example_pack +#", f"id: {pack_id}  #", EXAMPLE.read_text(encoding="utf-8"), count=1, flags=re.MULTILINE)


def bundled_packs() -> dict[str, Path]:
    """The script packs shipped with callqa, by id."""
    return {path.stem: path for path in sorted(PACKS.glob("*.yaml"))}


def find_pack(name: str | os.PathLike[str]) -> Path:
    """A bundled pack by id, or a YAML file by path."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    bundled = bundled_packs()
    if str(name) not in bundled:
        raise ScriptError(f"{name}: no such script pack (bundled: {', '.join(bundled)})")
    return bundled[str(name)]


def load_pack(name: str | os.PathLike[str]) -> ScriptPack:
    """Load and validate a pack; ScriptError says where and what is wrong."""
    path = find_pack(name)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScriptError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ScriptError(f"{path}: not UTF-8 text") from None
    return parse_pack(text, str(path))


class _Alias(yaml.YAMLError):  # type: ignore[misc]  # (PyYAML ships no types)
    def __init__(self, line: int) -> None:
        self.line = line


class _PackLoader(yaml.SafeLoader):  # type: ignore[misc]  # (PyYAML ships no types)
    """The safe loader, refusing anchors and aliases (``&name``, ``*name``): one used many times is
    expanded wherever the pack is written out again (a draft), a few kilobytes becoming gigabytes."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Alias(event.start_mark.line + 1)
        return super().compose_node(parent, index)


def parse_pack(text: str, source: str = "<pack>") -> ScriptPack:
    """A pack from its YAML text; ScriptError names ``source``, the line and what is wrong."""
    try:
        loader = _PackLoader(text)  # reading starts here: a character YAML refuses is an error already
        try:
            root = loader.get_single_node()  # the nodes, for the lines of errors; then the data from them
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except _Alias as alias:
        raise ScriptError(f"{source}:{alias.line}: YAML anchors and aliases (&name, *name) are not allowed in a "
                          "script pack: write each phrase out") from None  # fmt: skip
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ScriptError(f"{source}{line}: not valid YAML ({problem})") from None
    except RecursionError:
        raise ScriptError(f"{source}: nested too deeply to be a script pack") from None
    if not isinstance(data, dict):
        raise ScriptError(f"{source}:1: a script pack is a mapping of keys such as id, checkpoints")
    try:
        return ScriptPack.model_validate(data)
    except ValidationError as error:
        every = error.errors()
        # A list whose items all failed is also "too short": the items' own errors say why.
        found = sorted((e for e in every if not (e["type"] == "too_short" and any(
            len(o["loc"]) > len(e["loc"]) and o["loc"][: len(e["loc"])] == e["loc"] for o in every))),
            key=lambda e: _line(root, e["loc"]))  # fmt: skip
        raise ScriptError("\n".join(  # every problem at once, one line each, in the file's order
            f"{source}:{_line(root, e['loc'])}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {_message(e)}"
            for e in found
        )) from None  # fmt: skip


# Keys people write for another one: what the pack calls it.
_SAID_FOR = {"examples": "phrases", "keywords": "phrases", "type": "id", "name": "title", "terms": "product_terms",
             "products": "product_terms", "lang": "language"}  # fmt: skip


def _message(error: Any) -> str:
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        known = _keys_at(error["loc"][:-1])
        key = str(error["loc"][-1])
        meant = [_SAID_FOR[key]] if _SAID_FOR.get(key) in known else difflib.get_close_matches(key, known, n=1)
        return f"unknown key: did you mean {meant[0]!r}?" if meant else f"unknown key (known here: {', '.join(known)})"
    if error["type"] == "string_pattern_mismatch" and error["loc"][-1] == "id":
        return f"{error['input']!r} is not {ID_RULE}"
    return message.removeprefix("Value error, ")


def _keys_at(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the pack's schema knows at ``loc`` (a mapping's place in the pack)."""
    model: Any = ScriptPack
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        inner = [a for a in typing.get_args(field.annotation) if isinstance(a, type)] or [field.annotation]
        model = inner[0]
    return list(model.model_fields) if hasattr(model, "model_fields") else []


def _line(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int:
    """The line of the YAML node at ``loc``, or of the nearest node above it that exists."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, _ in node.value if k.value == part), None)
            if key is not None:
                line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
