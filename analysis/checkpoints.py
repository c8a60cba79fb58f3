"""Checkpoints: was each stage of the script said, by the right side, in the right place?"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.matching import Match
from analysis.meaning import CUT, is_unsure
from analysis.report import CheckpointResult, Evidence
from analysis.units import Unit
from scripts_lib.schema import Checkpoint, ScriptPack

MAX_EVIDENCE = 3


def evidence(match: Match, unit: Unit) -> Evidence:
    return Evidence(
        start=unit.start,
        end=unit.end,
        speaker=unit.speaker,
        text=unit.text,
        matched=match.phrase,
        method=match.method,
        confidence=match.confidence,
    )


def check_checkpoints(
    pack: ScriptPack, units: Sequence[Unit], matches: Sequence[Match], duration: float
) -> tuple[CheckpointResult, ...]:
    """One result per checkpoint of ``pack``, in the pack's order. ``matches`` under CUT are near
    misses: the nearest one of a missed checkpoint gives its confidence."""
    speakers = {c.id: c.speaker for c in pack.checkpoints}
    found: dict[str, list[Match]] = {}
    near: dict[str, Match] = {}
    for m in matches:
        if units[m.unit].speaker != speakers[m.item]:
            continue
        if m.confidence >= CUT:
            found.setdefault(m.item, []).append(m)
        elif m.item not in near or m.confidence > near[m.item].confidence:
            near[m.item] = m
    for checkpoint in pack.checkpoints:
        # The one in its time window comes first, then by confidence, then the earliest.
        found.get(checkpoint.id, []).sort(
            key=lambda m: (not _in_window(checkpoint, units[m.unit], duration), -m.confidence, m.unit)
        )
    # A stage happened where its best evidence is, not at its earliest faint likeness.
    first = {cid: units[ms[0].unit].start for cid, ms in found.items()}
    late = _out_of_order(pack, first)
    results = []
    for checkpoint in pack.checkpoints:
        hits = found.get(checkpoint.id, [])
        nearest = near.get(checkpoint.id)
        misplaced = None
        if hits:
            misplaced = _window_problem(checkpoint, units[hits[0].unit], duration) or late.get(checkpoint.id)
            confidence, surest = hits[0].confidence, max(m.confidence for m in hits)
        else:
            confidence = surest = nearest.confidence if nearest else 0.0
        unsure = is_unsure(surest)
        results.append(
            CheckpointResult(
                id=checkpoint.id,
                title=checkpoint.title,
                required=checkpoint.required,
                weight=checkpoint.weight,
                passed=bool(hits),
                confidence=confidence,
                misplaced=misplaced,
                evidence=tuple(evidence(m, units[m.unit]) for m in hits[:MAX_EVIDENCE]),
                unsure=unsure,
                nearest=evidence(nearest, units[nearest.unit]) if nearest and not hits and unsure else None,
            )
        )
    return tuple(results)


def _in_window(checkpoint: Checkpoint, unit: Unit, duration: float) -> bool:
    return _window_problem(checkpoint, unit, duration) is None


def _window_problem(checkpoint: Checkpoint, unit: Unit, duration: float) -> str | None:
    if checkpoint.within_first is not None and unit.start > checkpoint.within_first:
        return f"said at {clock(unit.start)}; expected in the first {checkpoint.within_first:g} s"
    if checkpoint.within_last is not None and unit.end < duration - checkpoint.within_last:
        return f"said at {clock(unit.start)}; expected in the last {checkpoint.within_last:g} s"
    return None


def _out_of_order(pack: ScriptPack, first: dict[str, float]) -> dict[str, str]:
    """Checkpoints said out of the script's order: those off the longest run that keeps it."""
    ordered = sorted(
        (c for c in pack.checkpoints if c.order is not None and c.id in first),
        key=lambda c: first[c.id],
    )
    # Longest non-decreasing run of order numbers, by time (quadratic: a script has few stages).
    best: list[list[Checkpoint]] = []
    for i, c in enumerate(ordered):
        chains = [best[j] for j in range(i) if (ordered[j].order or 0) <= (c.order or 0)]
        best.append([*max(chains, key=len, default=[]), c])
    keep = {c.id for c in max(best, key=len, default=[])}
    notes = {}
    for c in ordered:
        if c.id in keep:
            continue
        later = [
            o for o in ordered
            if o.id in keep and (o.order or 0) > (c.order or 0) and first[o.id] < first[c.id]
        ]  # fmt: skip
        earlier = [
            o for o in ordered
            if o.id in keep and (o.order or 0) < (c.order or 0) and first[o.id] > first[c.id]
        ]  # fmt: skip
        where = (
            f", after {later[0].title.lower()}" if later
            else f", before {earlier[0].title.lower()}" if earlier
            else ""
        )  # fmt: skip
        notes[c.id] = f"said at {clock(first[c.id])}, out of the script's order{where}"
    return notes


def clock(seconds: float) -> str:
    """``75.2`` -> ``"01:15"``."""
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes:02d}:{rest:02d}"
