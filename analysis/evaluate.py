"""Accuracy against a labelled golden set: precision, recall and F1, handled-accuracy, score separation.

A label file ``NAME.labels.json`` sits next to each recording or transcript:

    {"checkpoints": ["greeting", "introduction"],           # the checkpoints said in the call
     "objections": [{"type": "price", "handled": false}],   # each objection type raised
     "forbidden": ["calm down"],                            # forbidden phrases said
     "outcome": "lost"}                                     # won, lost, or null when unknown

Or, the layout of a reviewed call set (callqa's development set): ``ID.json`` holds the labels
(``stages`` for checkpoints) and the reference ``turns`` (who said what, when), beside the
recordings ``ID.stereo.flac`` and ``ID.mono.flac``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analysis.report import CallReport
from callqa.errors import InputError
from transcribe.transcript import Transcript


class _Objection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    handled: bool


class Labels(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    checkpoints: tuple[str, ...] = ()
    objections: tuple[_Objection, ...] = ()
    forbidden: tuple[str, ...] = ()
    outcome: str | None = Field(default=None, pattern="^(won|lost)$")


def read_labels(path: Path) -> Labels:
    data = _read(path)
    if is_reviewed_call(data):
        data = {"checkpoints": data.get("stages", []), "objections": data.get("objections", []),
                "forbidden": data.get("forbidden", []), "outcome": data.get("outcome")}  # fmt: skip
    try:
        return Labels.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{path}: {where}: {first['msg']}") from None


def is_reviewed_call(data: object) -> bool:
    """Is this the JSON of a reviewed call (labels with the reference turns)?"""
    return isinstance(data, dict) and "stages" in data and "turns" in data


def reference_transcript(path: Path, language: str) -> Transcript:
    """The reviewed call's reference turns as a Transcript (roles as labelled, no word times)."""
    data = _read(path)
    turns = data.get("turns")
    if not isinstance(turns, list):
        raise InputError(f"{path}: turns: expected a list of speaker, start, end and text")
    utterances = [
        {**t, "channel": 0 if t.get("speaker") == "manager" else 1} if isinstance(t, dict) else t
        for t in turns
    ]
    fields = {"utterances": utterances, "language": language, "duration": data.get("duration", 0),
              "engine": "reference", "model": "reference", "source": path.name}  # fmt: skip
    try:
        return Transcript.from_dict(fields)
    except InputError as error:
        raise InputError(f"{path}: {str(error).replace('transcript: ', 'turns: ')}") from None


def _read(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read labels ({error})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: cannot read labels (expected a JSON object)")
    return data


class Counts(BaseModel):
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def summary(self) -> dict[str, float | int]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 3),
                "recall": round(self.recall, 3), "f1": round(self.f1, 3)}  # fmt: skip


@dataclass(frozen=True)
class Case:
    name: str
    labels: Labels
    report: CallReport


def evaluate(cases: Sequence[Case], objection_types: Collection[str] = ()) -> dict[str, object]:
    """The accuracy figures of the analysis over labelled calls, as a JSON-ready dict.
    ``objection_types``: the pack's, each a verdict on every call (``unsure``)."""
    checkpoints: dict[str, Counts] = {}
    objections: dict[str, Counts] = {}
    forbidden = Counts()
    handled_right = handled_total = 0
    unsure = dict.fromkeys(("verdicts", "unsure", "wrong", "wrong_unsure"), 0)
    calls = []
    for case in cases:
        found = {c.id for c in case.report.checkpoints if c.passed}
        _count(checkpoints, {c.id for c in case.report.checkpoints}, found, set(case.labels.checkpoints))
        raised = {o.type: o.handled for o in case.report.objections}  # the last of each type decides
        labelled = {o.type: o.handled for o in case.labels.objections}
        _count(objections, set(raised) | set(labelled), set(raised), set(labelled))
        for key, n in _unsure(case.report, set(case.labels.checkpoints), set(labelled), objection_types).items():
            unsure[key] += n
        for kind in set(raised) & set(labelled):
            handled_total += 1
            handled_right += raised[kind] == labelled[kind]
        said = {f.phrase.lower() for f in case.report.forbidden}
        expected = {f.lower() for f in case.labels.forbidden}
        forbidden.tp += len(said & expected)
        forbidden.fp += len(said - expected)
        forbidden.fn += len(expected - said)
        errors = sorted(
            [f"missed checkpoint {c}" for c in set(case.labels.checkpoints) - found]
            + [f"false checkpoint {c}" for c in found - set(case.labels.checkpoints)]
            + [f"missed objection {t}" for t in set(labelled) - set(raised)]
            + [f"false objection {t}" for t in set(raised) - set(labelled)]
            + [f"objection {t}: handled {raised[t]}, labelled {labelled[t]}"
               for t in set(raised) & set(labelled) if raised[t] != labelled[t]]
        )  # fmt: skip
        calls.append({"name": case.name, "score": case.report.score, "outcome": case.labels.outcome,
                      "errors": errors})  # fmt: skip
    return {
        "calls": len(cases),
        "checkpoint_f1": round(_micro(checkpoints).f1, 3),
        "objection_f1": round(_micro(objections).f1, 3),
        "handled_accuracy": round(handled_right / handled_total, 3) if handled_total else None,
        "forbidden": forbidden.summary(),
        "separation": _separation(cases),
        "unsure": unsure,
        "checkpoints": {k: v.summary() for k, v in sorted(checkpoints.items())},
        "objections": {k: v.summary() for k, v in sorted(objections.items())},
        "per_call": calls,
    }


def _unsure(
    report: CallReport, checkpoints: set[str], objections: set[str], types: Collection[str]
) -> dict[str, int]:
    """Of one call's verdicts (each checkpoint; each objection type of the pack, or raised,
    possible or labelled), how many there are, are unsure, are wrong, and are wrong and unsure:
    how much of a reviewer's listening the unsure ones ask for, and how many errors they hold."""
    found = {o.type: o.unsure for o in report.objections} | {o.type: True for o in report.possible_objections}
    raised = {o.type for o in report.objections}
    verdicts = [(c.unsure, c.passed != (c.id in checkpoints)) for c in report.checkpoints]
    verdicts += [(found.get(t, False), (t in raised) != (t in objections)) for t in set(found) | objections | set(types)]
    return {"verdicts": len(verdicts), "unsure": sum(u for u, _ in verdicts),
            "wrong": sum(w for _, w in verdicts), "wrong_unsure": sum(u and w for u, w in verdicts)}  # fmt: skip


def _count(table: dict[str, Counts], keys: set[str], found: set[str], truth: set[str]) -> None:
    for key in keys | truth:
        counts = table.setdefault(key, Counts())
        counts.tp += key in found and key in truth
        counts.fp += key in found and key not in truth
        counts.fn += key not in found and key in truth


def _micro(table: dict[str, Counts]) -> Counts:
    return Counts(
        tp=sum(c.tp for c in table.values()),
        fp=sum(c.fp for c in table.values()),
        fn=sum(c.fn for c in table.values()),
    )


def _separation(cases: Sequence[Case]) -> dict[str, object]:
    """How well the score tells won calls from lost ones: AUC, and whether every won call is above."""
    won = [c.report.score for c in cases if c.labels.outcome == "won"]
    lost = [c.report.score for c in cases if c.labels.outcome == "lost"]
    if not won or not lost:
        return {"won": len(won), "lost": len(lost), "auc": None, "separated": None}
    pairs = [(w > lo) + 0.5 * (w == lo) for w in won for lo in lost]
    return {
        "won": len(won),
        "lost": len(lost),
        "lowest_won": min(won),
        "highest_lost": max(lost),
        "auc": round(sum(pairs) / len(pairs), 3),
        "separated": min(won) > max(lost),
    }
