"""The client's pushback, as the objection verdicts of ``analysis.meaning`` see it.

``analysis.pushback`` says how likely a client sentence resists buying or going on, and of which
generic type (price, timing, status quo...). A trainer's pack names its own types
("competitor": "Already has a tracker"), a few phrases each. Each pack type gets a *profile*:
what the generic model says of its phrases and title (its mean GENERIC probabilities). Two of
the objection family's features come from here (``resistance``): how likely the sentence
pushes back (``resists``, as log-odds), and how much the generic type of the sentence and of
its whole turn shares with the pack type's profile (``type_fit``). The family's model weighs
them with the sentence's likeness to the type's phrases.

A pushback that the model finds sure but that fits none of the pack's types is of type OTHER
(``unfitted``): a possible objection for a reviewer to hear, never counted by the machine. A
pack type whose profile fits no generic type (its phrases say nothing the corpus knows as
pushback) is found by its phrases alone; ``unprofiled`` names such types for ``callqa script
check``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.cues import vague
from analysis.matching import Match
from analysis.pushback import GENERIC, PushbackModel, Said, cues, design
from analysis.units import Unit

OTHER = "other"
OTHER_TITLE = "Other pushback"
# A pack type is of a kind the model knows when the mean direction of its phrases and title lies
# at least this near (cosine) the mean direction of one generic type's corpus turns: the packs
# that ship and the development set's lie at 0.23-0.64; "I don't like the green paint" at 0.11.
KNOWN = 0.18
# Log-odds are kept within this, so that one sure sentence cannot outweigh every other feature.
LOGIT_BOUND = 6.0


@dataclass(frozen=True)
class PackTypes:
    """A pack's objection types as the pushback model sees them."""

    ids: tuple[str, ...]
    profiles: np.ndarray  # (type, GENERIC); zero for a type of no kind the model knows
    nearest: tuple[str | None, ...]  # per type, the generic type it is nearest to (None: none)


def pack_types(model: PushbackModel, ids: Sequence[str], vectors: Sequence[np.ndarray]) -> PackTypes:
    """The profiles of a pack's types, from ``vectors``: per type, one row per phrase and the title."""
    profiles, nearest = np.zeros((len(ids), len(GENERIC))), []
    for k, v in enumerate(vectors):
        centre = v.mean(axis=0) if len(v) else np.zeros(model.centroids.shape[1])
        near = model.centroids @ (centre / max(float(np.linalg.norm(centre)), 1e-12))
        known = len(v) > 0 and near.max() >= KNOWN
        nearest.append(GENERIC[int(near.argmax())] if known else None)
        if known:
            profiles[k] = model.generic(v).mean(axis=0)
    return PackTypes(tuple(ids), profiles, tuple(nearest))


def unprofiled(types: PackTypes) -> list[str]:
    """The pack's types that fit no generic type: found by their own phrases only."""
    return [id for id, near in zip(types.ids, types.nearest, strict=True) if near is None]


@dataclass(frozen=True)
class Resistance:
    """Per sentence of a call, how it pushes back, as features of the objection family."""

    probability: np.ndarray  # (unit,): that it pushes back; 0 for the manager's
    fit: np.ndarray  # (type, unit): how its generic type shares the pack type's profile

    @property
    def log_odds(self) -> np.ndarray:
        p = np.clip(self.probability, 1e-9, 1 - 1e-9)
        return np.asarray(np.clip(np.log(p / (1 - p)), -LOGIT_BOUND, LOGIT_BOUND))


def resistance(
    model: PushbackModel,
    types: PackTypes,
    units: Sequence[Unit],
    said: Sequence[Said],
    vectors: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> Resistance:
    """``said``: each unit in its dialogue (``analysis.pushback.said_in_call``); ``vectors``, per
    unit: its own, its whole turn's, and the manager's turn's before it (zero where none).
    A worry often takes two sentences ("My only hesitation is the crews. I don't want them
    feeling watched."), so the type fit is that of the sentence and its turn alike."""
    probability = np.zeros(len(units))
    fit = np.zeros((len(types.ids), len(units)))
    clients = [i for i, u in enumerate(units) if u.speaker == "client"]
    if clients:
        texts, turns, befores = (v[clients] for v in vectors)
        chosen = [said[i] for i in clients]
        probability[clients] = model.pushback(design(texts, befores, cues(chosen, texts, befores)))
        generic = (model.generic(texts) + model.generic(turns)) / 2
        fit[:, clients] = types.profiles @ generic.T
    return Resistance(probability, fit)


def unfitted(
    found: Resistance, units: Sequence[Unit], typed: Sequence[Match], floor: float, language: str
) -> list[Match]:
    """The client's sentences whose pushback probability is ``floor`` or more but that carry no
    pack type in ``typed``: each a Match of type OTHER. Short ones, goodbyes and questions or
    steps taken without a "but" or a "not" are left out, as for any objection by meaning."""
    carried = {m.unit for m in typed}
    return [
        Match(OTHER, i, round(float(found.probability[i]), 3), "", "meaning")
        for i, u in enumerate(units)
        if u.speaker == "client" and i not in carried and found.probability[i] >= floor
        and not vague(units, i, "objection", language)
    ]  # fmt: skip
