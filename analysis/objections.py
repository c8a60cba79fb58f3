"""Objections: what the client pushed back with, how the manager answered, and what came of it.

The manager's response to an objection is what the manager says before the
client speaks again (a short "okay" from the client does not end it). Its
techniques are the pack's techniques found in it. The outcome is read from
what the client does next: the same objection again is ``repeated``; no more
words from the client, a last word that is a refusal, a last turn that pushes back
with no step taken since, or nothing more than a few words and a goodbye (no day or time agreed: "Yeah, that's what I
thought. Bye.") is ``ended``; anything else is ``moved_on``. An objection is
handled when the manager used a technique and the client moved on.

Below the cut-off, the client's sentence nearest each type not raised (within
``analysis.meaning.UNSURE``) is a *possible* objection: not counted, but told
the same way, so that a reviewer who hears it raised finds it answered or not.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from analysis.added import HOW as REVIEWER
from analysis.cues import closes, pushes_back, takes_up
from analysis.matching import Match
from analysis.meaning import CUT, is_unsure
from analysis.metrics import covered
from analysis.objection_types import OTHER, OTHER_TITLE
from analysis.report import ObjectionResult, Outcome, Response
from analysis.units import Unit
from scripts_lib.schema import ScriptPack

# A client turn shorter than this many words ("okay", "mm-hm") does not end the manager's answer.
BACKCHANNEL_WORDS = 3
# How many of the client's next turns are searched for the same objection.
REPEAT_TURNS = 2
# A client who says fewer words than this after the answer, goodbyes and thanks aside, has left.
ENDED_WORDS = 8
_NEGATIONS = frozenset(["no", "not", "never", "nope", "нет", "не", "никогда"])


@dataclass(frozen=True)
class _Raised:
    type: str
    units: tuple[int, ...]
    confidence: float


def find_objections(
    pack: ScriptPack,
    units: Sequence[Unit],
    objection_matches: Sequence[Match],
    technique_matches: Sequence[Match],
    refusing: Collection[int] = (),
) -> tuple[tuple[ObjectionResult, ...], tuple[ObjectionResult, ...], float]:
    """The objections in time order, the possible ones (per type not raised, the client's surest
    sentence under CUT; and the surest pushback that fits no pack type, OTHER), and the seconds
    the client stayed stuck in them."""
    raised = _raised(units, [m for m in objection_matches if m.confidence >= CUT and m.item != OTHER])
    said = {i for r in raised for i in r.units}
    types = {r.type for r in raised}
    # The machine's verdict on a sentence a reviewer gave another type stays in view, as possible.
    pinned = {m.unit for m in objection_matches if m.method == REVIEWER}
    below = [
        m for m in objection_matches
        if (m.confidence < CUT or m.item == OTHER or m.unit in pinned) and m.item not in types
        and (m.unit not in said or m.unit in pinned) and m.method != REVIEWER and units[m.unit].speaker == "client"
    ]  # fmt: skip
    nearest = {m.item: m for m in sorted(below, key=lambda m: m.confidence)}  # the surest of each type
    possible = sorted((_Raised(m.item, (m.unit,), m.confidence) for m in nearest.values()), key=lambda r: r.units)
    # A refusal of no type ("No. Forget it.") is pushback all the same.
    tell = _Teller(pack, units, technique_matches, dict.fromkeys(refusing, OTHER) | {i: r.type for r in raised for i in r.units})
    results, stuck = [], []
    for r in raised:
        results.append(tell(r))
        first, later = units[r.units[0]], tell.later(r)
        resumed = _resumed_at(units, later, tell.type_by_unit)
        stuck.append((first.start, resumed if resumed is not None else max(u.end for u in units)))
    return tuple(results), tuple(tell(r) for r in possible), round(covered(stuck), 2)


class _Teller:
    """Tells an objection: the manager's answer, its techniques, what the client did next."""

    def __init__(
        self, pack: ScriptPack, units: Sequence[Unit], technique_matches: Sequence[Match],
        type_by_unit: dict[int, str],
    ) -> None:  # fmt: skip
        self.pack, self.units, self.type_by_unit = pack, units, type_by_unit
        self.titles = {OTHER: OTHER_TITLE} | {o.id: o.title for o in pack.objections}
        self.techniques_by_unit: dict[int, list[str]] = {}
        for m in technique_matches:
            if units[m.unit].speaker == "manager":
                self.techniques_by_unit.setdefault(m.unit, []).append(m.item)
        self.question_techniques = [t.id for t in pack.techniques if t.questions]
        self.client_turns = sorted({u.turn for u in units if u.speaker == "client"})

    def later(self, r: _Raised) -> list[int]:
        """The client's turns after the manager's answer."""
        answer_end = _next_client_turn(self.units, self.units[r.units[-1]].turn)
        return [t for t in self.client_turns if t >= answer_end]

    def __call__(self, r: _Raised) -> ObjectionResult:
        units, last = self.units, self.units[r.units[-1]]
        answer_end = _next_client_turn(units, last.turn)
        answer = [
            i for i, u in enumerate(units)
            if u.speaker == "manager" and last.turn < u.turn < answer_end
        ]  # fmt: skip
        used: list[str] = []
        for i in answer:
            found = self.techniques_by_unit.get(i, [])
            if units[i].is_question:
                found = found + self.question_techniques
            used += [t for t in found if t not in used]
        outcome = _outcome(units, r.type, self.later(r), self.type_by_unit, self.pack.language)
        return ObjectionResult(
            type=r.type,
            title=self.titles[r.type],
            start=units[r.units[0]].start,
            end=last.end,
            text=" ".join(units[i].text for i in r.units),
            confidence=r.confidence,
            unsure=is_unsure(r.confidence),
            handled=bool(used) and outcome == "moved_on",
            techniques=tuple(used),
            response=_response(units, answer),
            outcome=outcome,
        )


def _raised(units: Sequence[Unit], matches: Sequence[Match]) -> list[_Raised]:
    """The client's objections; sentences of one turn with the same type are one objection.

    A sentence is one objection: of the types it could be, the trainer's own words said (nearly)
    verbatim win over a paraphrase found by meaning, then the more confident."""
    best: dict[int, Match] = {}

    def rank(m: Match) -> tuple[bool, float]:
        return m.method != "meaning", m.confidence

    for m in matches:
        if units[m.unit].speaker == "client" and (m.unit not in best or rank(m) > rank(best[m.unit])):
            best[m.unit] = m
    raised: list[_Raised] = []
    for i in sorted(best):
        m = best[i]
        previous = raised[-1] if raised else None
        if previous and previous.type == m.item and units[previous.units[-1]].turn == units[i].turn:
            raised[-1] = _Raised(m.item, (*previous.units, i), max(previous.confidence, m.confidence))
        else:
            raised.append(_Raised(m.item, (i,), m.confidence))
    return raised


def _next_client_turn(units: Sequence[Unit], after: int) -> int:
    """The turn index of the client's next real turn after turn ``after`` (a big number if none)."""
    words: dict[int, int] = {}
    for u in units:
        if u.speaker == "client" and u.turn > after:
            words[u.turn] = words.get(u.turn, 0) + len(u.words)
    return min((t for t, n in words.items() if n >= BACKCHANNEL_WORDS), default=1 << 30)


def _outcome(
    units: Sequence[Unit], kind: str, later: list[int], type_by_unit: dict[int, str], language: str
) -> Outcome:
    if not later:
        return "ended"
    for i, u in enumerate(units):
        if u.turn in later[:REPEAT_TURNS] and type_by_unit.get(i) == kind:
            return "repeated"
    said = [" ".join(u.words) for u in units if u.turn in later]
    rest = sum(len(w.split()) for w in said if not closes(w, language))
    took_up = any(takes_up(units, i, language) for i, u in enumerate(units) if u.turn in later)
    if rest < ENDED_WORDS and not took_up:
        return "ended"
    last = [i for i, u in enumerate(units) if u.turn == later[-1]]
    if len(later) == 1 and any(_NEGATIONS.intersection(units[i].words) for i in last):
        return "ended"
    # The client's last turn pushes back, with a no, a not or a but, and no step was taken since:
    # the worry stood to the end ("No. Forget it.").
    if not took_up and any(type_by_unit.get(i) and pushes_back(" ".join(units[i].words), language) for i in last):
        return "ended"
    return "moved_on"


def _resumed_at(units: Sequence[Unit], later: list[int], type_by_unit: dict[int, str]) -> float | None:
    """When the client first speaks again without an objection."""
    for i, u in enumerate(units):
        if u.turn in later and i not in type_by_unit:
            return u.start
    return None


def _response(units: Sequence[Unit], answer: list[int]) -> Response | None:
    if not answer:
        return None
    return Response(
        start=units[answer[0]].start,
        end=units[answer[-1]].end,
        text=" ".join(units[i].text for i in answer),
    )
