"""From a Transcript and a script pack to a CallReport."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence

from analysis.checkpoints import check_checkpoints
from analysis.language import pipeline
from analysis.matching import Match, Phrase, compile_phrases, match
from analysis.metrics import INTERRUPTION, conversation_metrics, silences
from analysis.objections import find_objections
from analysis.report import CallReport, CheckpointResult, ForbiddenHit, ObjectionResult, ScriptRef
from analysis.scoring import score_call
from analysis.units import Unit, units
from callqa.errors import InputError
from scripts_lib.schema import ScriptPack
from transcribe.transcript import Transcript


@dataclasses.dataclass(frozen=True)
class CompiledPack:
    """A pack's phrases, lemmatised once and reused for every call."""

    checkpoints: tuple[Phrase, ...]
    objections: tuple[Phrase, ...]
    techniques: tuple[Phrase, ...]
    forbidden: tuple[Phrase, ...]


_compiled: dict[str, CompiledPack] = {}


def compile_pack(pack: ScriptPack) -> CompiledPack:
    key = pack.model_dump_json()
    if key not in _compiled:
        nlp = pipeline(pack.language)
        _compiled[key] = CompiledPack(
            checkpoints=compile_phrases(
                [(c.id, c.phrases, c.patterns) for c in pack.checkpoints], nlp
            ),
            objections=compile_phrases([(o.id, o.phrases, ()) for o in pack.objections], nlp),
            techniques=compile_phrases([(t.id, t.phrases, ()) for t in pack.techniques], nlp),
            forbidden=compile_phrases([(f.phrase, (f.phrase,), ()) for f in pack.forbidden], nlp),
        )
    return _compiled[key]


def analyze(
    transcript: Transcript,
    pack: ScriptPack,
    *,
    levels: dict[str, float] | None = None,
    overrides: Mapping[str, bool] | None = None,
) -> CallReport:
    """Check ``transcript`` against ``pack``. ``levels``: speech dBFS per side, if the audio was read.

    ``overrides``: reviewers' verdicts that replace the machine's before scoring, such as
    ``{"checkpoint:greeting": True, "objection:price": False}`` (passed; handled).
    """
    if transcript.language != pack.language:
        raise InputError(
            f"script {pack.id}: it is for language {pack.language!r}, the call is in {transcript.language!r}"
        )
    compiled = compile_pack(pack)
    found = units(transcript, pipeline(pack.language))
    client = [i for i, u in enumerate(found) if u.speaker == "client"]
    manager = [i for i, u in enumerate(found) if u.speaker == "manager"]
    checkpoints = check_checkpoints(
        pack, found, _match_on(compiled.checkpoints, found, range(len(found))), transcript.duration
    )
    objections, stuck = find_objections(
        pack,
        found,
        _match_on(compiled.objections, found, client),
        _match_on(compiled.techniques, found, manager),
    )
    severity = {f.phrase: f.severity for f in pack.forbidden}
    forbidden = tuple(
        ForbiddenHit(
            phrase=m.item,
            severity=severity[m.item],
            start=found[m.unit].start,
            end=found[m.unit].end,
            text=found[m.unit].text,
        )
        for m in _match_on(compiled.forbidden, found, manager)
        if m.method
        in ("lemmas", "fuzzy")  # short phrases: sound-alikes and paraphrases are no proof
    )
    if overrides:
        checkpoints, objections = apply_overrides(checkpoints, objections, overrides)
    metrics = conversation_metrics(transcript, found, pack.product_terms, levels)
    metrics = metrics.model_copy(update={"objection_seconds": stuck})
    interruptions = [o.start for o in transcript.overlaps(INTERRUPTION) if o.by == "manager"]
    score, stages, mistakes = score_call(
        pack, checkpoints, objections, forbidden, metrics, interruptions, silences(transcript)
    )
    return CallReport(
        script=ScriptRef(id=pack.id, version=pack.version, title=pack.title),
        score=score,
        stages=stages,
        checkpoints=checkpoints,
        objections=objections,
        forbidden=forbidden,
        metrics=metrics,
        mistakes=mistakes,
        transcript=json.loads(transcript.to_json()),  # as JSON has it: lists, not tuples
    )


def apply_overrides(
    checkpoints: tuple[CheckpointResult, ...],
    objections: tuple[ObjectionResult, ...],
    overrides: Mapping[str, bool],
) -> tuple[tuple[CheckpointResult, ...], tuple[ObjectionResult, ...]]:
    """Reviewers' verdicts in place of the machine's. An overridden checkpoint counts as in place;
    an objection verdict applies to the last time that type was raised (the one that decides)."""
    known = {f"checkpoint:{c.id}" for c in checkpoints} | {
        f"objection:{o.type}" for o in objections
    }
    unknown = set(overrides) - known
    if unknown:
        raise InputError(
            f"review target {min(unknown)!r}: not a checkpoint or objection of this report"
        )
    checkpoints = tuple(
        c.model_copy(update={"passed": overrides[f"checkpoint:{c.id}"], "misplaced": None})
        if f"checkpoint:{c.id}" in overrides else c
        for c in checkpoints
    )  # fmt: skip
    last = {o.type: i for i, o in enumerate(objections)}
    objections = tuple(
        o.model_copy(update={"handled": overrides[f"objection:{o.type}"]})
        if f"objection:{o.type}" in overrides and last[o.type] == i else o
        for i, o in enumerate(objections)
    )  # fmt: skip
    return checkpoints, objections


def _match_on(
    phrases: Sequence[Phrase], found: Sequence[Unit], indices: Sequence[int]
) -> list[Match]:
    """Matches over the units at ``indices`` only, with unit numbers into ``found``."""
    subset = [found[i] for i in indices]
    return [dataclasses.replace(m, unit=indices[m.unit]) for m in match(phrases, subset)]
