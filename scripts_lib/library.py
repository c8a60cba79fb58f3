"""The common phrasings of a sales call's stages, objections and techniques, per language.

``library/en.yaml`` and ``library/ru.yaml`` hold, for the usual ids (``greeting`` ...
``farewell``; ``price``, ``timing``, ``competitor``, ``send_info``, ``authority``, ``trust``;
``acknowledge``, ``clarify``...), the ways people commonly say them. The analysis compares a
sentence with these as well as with the pack's own examples, so that a trainer's few examples
are not the only words that count.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import yaml

LIBRARY = Path(__file__).parent / "library"
Family = Literal["checkpoints", "objections", "techniques"]


@functools.cache
def common_phrases(language: str) -> dict[Family, dict[str, tuple[str, ...]]]:
    """Per family, the common phrasings by id; empty for a language without a library."""
    path = LIBRARY / f"{language}.yaml"
    if not path.exists():
        return {"checkpoints": {}, "objections": {}, "techniques": {}}
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        family: {key: tuple(phrases) for key, phrases in data.get(family, {}).items()}
        for family in ("checkpoints", "objections", "techniques")
    }
