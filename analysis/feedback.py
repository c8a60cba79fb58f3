"""Feedback for the trainer: where a pack's checkpoints and objection types disagree with reviewed calls.

For each checkpoint and objection type, the labelled calls where the analysis
missed it, with the sentences that came nearest (so the trainer can see the
words people really use and add them as examples), and the calls where it was
found but the reviewer says it was not there, with the sentence it was found in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from analysis.analyze import compile_pack, sentence_encoder, sentence_vectors
from analysis.evaluate import Labels
from analysis.language import pipeline
from analysis.meaning import features
from analysis.report import CallReport
from analysis.units import units
from analysis.weights import shipped_models
from scripts_lib.schema import ScriptPack
from transcribe.transcript import Transcript

Kind = Literal["checkpoint", "objection"]
NEAREST = 2  # sentences shown per missed call


@dataclass(frozen=True)
class Sentence:
    start: float
    text: str
    confidence: float


@dataclass(frozen=True)
class Disagreement:
    call: str
    sentences: tuple[Sentence, ...]  # missed: the nearest ones; found wrongly: where it was found


@dataclass(frozen=True)
class ItemFeedback:
    kind: Kind
    id: str
    title: str
    agreed: int  # calls where the analysis and the reviewer agree
    missed: tuple[Disagreement, ...]
    found_wrongly: tuple[Disagreement, ...]


@dataclass(frozen=True)
class Reviewed:
    name: str
    labels: Labels
    transcript: Transcript
    report: CallReport


def feedback(pack: ScriptPack, calls: Sequence[Reviewed]) -> tuple[ItemFeedback, ...]:
    """Per checkpoint, then per objection type, how the analysis compares with the reviewers."""
    nearest = {call.name: _nearest(pack, call.transcript) for call in calls}
    items: list[tuple[Kind, str, str]] = [("checkpoint", c.id, c.title) for c in pack.checkpoints]
    items += [("objection", o.id, o.title) for o in pack.objections]
    found: list[ItemFeedback] = []
    for kind, id, title in items:
        missed, wrong, agreed = [], [], 0
        for call in calls:
            truth, evidence = _verdicts(kind, id, call)
            if truth == (evidence is not None):
                agreed += 1
            elif truth:
                missed.append(Disagreement(call.name, nearest[call.name].get((kind, id), ())))
            else:
                wrong.append(Disagreement(call.name, (evidence,) if evidence else ()))
        found.append(ItemFeedback(kind, id, title, agreed, tuple(missed), tuple(wrong)))
    return tuple(found)


def _verdicts(kind: Kind, id: str, call: Reviewed) -> tuple[bool, Sentence | None]:
    """Whether the reviewer says it was there, and the sentence the analysis found it in (if any)."""
    if kind == "checkpoint":
        result = call.report.checkpoint(id)
        if not result.passed:
            return id in call.labels.checkpoints, None
        first = result.evidence[0] if result.evidence else None
        said = Sentence(first.start, first.text, first.confidence) if first else Sentence(0.0, "", 1.0)
        return id in call.labels.checkpoints, said
    raised = next((o for o in call.report.objections if o.type == id), None)
    heard = Sentence(raised.start, raised.text, raised.confidence) if raised else None
    return id in {o.type for o in call.labels.objections}, heard


def _nearest(pack: ScriptPack, transcript: Transcript) -> dict[tuple[Kind, str], tuple[Sentence, ...]]:
    """Per item, the sentences of its speaker that came nearest to carrying it."""
    encoder, _ = sentence_encoder(pack.language)
    if encoder is None:
        return {}
    compiled = compile_pack(pack, encoder)
    found = units(transcript, pipeline(pack.language))
    if not found:
        return {}
    vectors = sentence_vectors(encoder, transcript, found)
    near: dict[tuple[Kind, str], tuple[Sentence, ...]] = {}
    models = shipped_models()
    for kind, family in (("checkpoint", compiled.checkpoints), ("objection", compiled.objections)):
        values, _, _ = features(family, found, vectors, transcript.duration)
        confidence = models[family.family].confidence(values)
        for k, item in enumerate(family.items):
            mine = [u for u in np.argsort(-confidence[k]) if found[u].speaker == item.speaker]
            near[(kind, item.id)] = tuple(  # type: ignore[index]
                Sentence(found[u].start, found[u].text, round(float(confidence[k, u]), 3))
                for u in mine[:NEAREST]
            )
    return near
