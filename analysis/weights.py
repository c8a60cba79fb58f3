"""The weights of the meaning model (``analysis.meaning``): one logistic model per family over
FEATURES, and those that ship with callqa in ``meaning_weights.json``."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import numpy as np

Family = Literal["checkpoint", "objection", "technique"]
FEATURES = (
    "meaning", "wording", "distinct", "turn", "common", "common_distinct", "asks", "asks_off",
    "when", "agreed", "pushback", "outside", "order_gap", "resists", "type_fit",
)  # fmt: skip


@dataclass(frozen=True)
class Model:
    """A logistic model over FEATURES, for one family."""

    coef: tuple[float, ...]
    bias: float

    def confidence(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(1 / (1 + np.exp(-(values @ np.asarray(self.coef) + self.bias))))


@functools.cache
def shipped_models() -> dict[Family, Model]:
    """The weights that ship with callqa (``meaning_weights.json``, written by bench/meaning.py)."""
    data = json.loads(resources.files("analysis").joinpath("meaning_weights.json").read_text())
    if tuple(data["features"]) != FEATURES:
        raise RuntimeError("meaning_weights.json: fitted on other features; run bench/meaning.py --write")
    return {family: Model(tuple(data[family]["coef"]), data[family]["bias"]) for family in data["models"]}
