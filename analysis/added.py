"""Objections a reviewer added: ones the machine missed, pinned to a moment of the call.

A reviewer who hears the client push back where the report found nothing gives the verdict
``added:TYPE@SECONDS`` (True: the manager handled it). The objection is the client's sentence
at that moment, and it is told like any other (the manager's answer, the techniques, what the
client did next), with the reviewer's verdict on whether it was handled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analysis.matching import Match
from analysis.report import ObjectionResult
from analysis.units import Unit
from callqa.errors import InputError
from scripts_lib.schema import ScriptPack

PREFIX = "added:"
HOW = "reviewer"  # the method of the Match a reviewer's objection is found by


@dataclass(frozen=True)
class Added:
    target: str  # added:TYPE@SECONDS
    type: str
    at: float  # seconds from the start of the call
    handled: bool


def added_objections(pack: ScriptPack, overrides: Mapping[str, bool]) -> list[Added]:
    """The reviewers' added objections among ``overrides``, each of a type of ``pack``."""
    types = [o.id for o in pack.objections]
    found = []
    for target, handled in overrides.items():
        if not target.startswith(PREFIX):
            continue
        kind, _, at = target.removeprefix(PREFIX).partition("@")
        if kind not in types:
            raise InputError(
                f"review target {target!r}: {kind!r} is not an objection type of script {pack.id} "
                f"({', '.join(types) or 'it has none'})"
            )
        try:
            seconds = float(at)
        except ValueError:
            raise InputError(f"review target {target!r}: the moment must be seconds, as in {PREFIX}{kind}@12.5") from None
        found.append(Added(target, kind, seconds, handled))
    return found


def pinned(added: Sequence[Added], units: Sequence[Unit]) -> list[Match]:
    """Each added objection as a Match of the client's sentence at its moment (or the nearest)."""
    clients = [i for i, u in enumerate(units) if u.speaker == "client"]
    if added and not clients:
        raise InputError(f"review target {added[0].target!r}: the client says nothing in this call")
    return [Match(a.type, _at(units, clients, a.at), 1.0, "added by a reviewer", HOW) for a in added]


def _at(units: Sequence[Unit], clients: Sequence[int], seconds: float) -> int:
    def distance(i: int) -> float:
        return max(units[i].start - seconds, seconds - units[i].end, 0.0)

    return min(clients, key=distance)


def with_verdicts(
    objections: Sequence[ObjectionResult], added: Sequence[Added], pins: Sequence[Match], units: Sequence[Unit]
) -> tuple[ObjectionResult, ...]:
    """``objections`` with the reviewers' verdicts on the ones they added (``pins``: as ``pinned``
    placed them)."""
    told = list(objections)
    for a, pin in zip(added, pins, strict=True):
        start = units[pin.unit].start
        for k, o in enumerate(told):
            if o.type == a.type and o.start <= start <= o.end:
                told[k] = o.model_copy(update={"handled": a.handled, "unsure": False, "confidence": 1.0})
    return tuple(told)
