"""The library of sales scripts: the schema of a pack, loading and validation, the bundled packs.

    from scripts_lib import load_pack
    pack = load_pack("b2b_outbound")          # a bundled pack, or a path to a YAML file
"""

from scripts_lib.loader import (
    ScriptError,
    bundled_packs,
    example_pack,
    find_pack,
    load_pack,
    parse_pack,
)
from scripts_lib.schema import Checkpoint, Objection, ScriptPack, Technique

__all__ = [
    "Checkpoint",
    "Objection",
    "ScriptError",
    "ScriptPack",
    "Technique",
    "bundled_packs",
    "example_pack",
    "find_pack",
    "load_pack",
    "parse_pack",
]
