"""A team's own pushback model: what its reviewers said of the objections in its calls, learnt.

Every verdict a reviewer gives on an objection says something about one of the client's
sentences: an objection the machine missed and a reviewer added (``added:TYPE@SECONDS``), a
possible one counted (``raised:TYPE`` True) or one confirmed (a verdict on ``objection:TYPE``)
is pushback of that type; one taken out (``raised:TYPE`` False) is not pushback. ``refit`` adds
those sentences to the corpus, counted EXTRA_WEIGHT times each, and keeps the ones a reviewer
added as phrases of their pack type (``analysis.pushback.PushbackModel.phrases``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.analyze import compile_pack, types_of
from analysis.pushback import NONE, Example, PushbackModel, Said, fit, read_corpus
from analysis.semantic import SentenceEncoder
from scripts_lib.schema import ScriptPack

# Fewer reviewed sentences than this teach nothing a refit should ship.
MIN_EXAMPLES = 3
# A team's sentence counts as this many corpus turns: its calls are the ones it is judged on.
EXTRA_WEIGHT = 20.0


@dataclass(frozen=True)
class ReviewedCall:
    """One call's report as the machine made it and as reviewed, with the reviewers' verdicts."""

    report: Mapping[str, Any]  # the machine's CallReport as JSON
    reviewed: Mapping[str, Any]  # the same, as the reviewers have it
    verdicts: Mapping[str, bool]  # the latest verdict per review target
    utterances: Sequence[Mapping[str, Any]]  # the transcript's: speaker, start, end, text


@dataclass(frozen=True)
class Heard:
    """A client's sentence (or sentences) as a reviewer heard it: pushback of ``type``, or not."""

    said: Said
    type: str | None  # the pack's objection type; None: not pushback
    pinned: bool = False  # a reviewer added it at this moment (not the machine's evidence, confirmed)


def heard(calls: Sequence[ReviewedCall], language: str) -> list[Heard]:
    """Every objection sentence the reviewers of ``calls`` gave a verdict on, as they heard it."""
    found = []
    for call in calls:
        given = call.verdicts
        for o in call.report.get("objections", []):
            if given.get(f"raised:{o['type']}") is False:
                found.append(Heard(_said(call, o, language), None))
        for o in call.reviewed.get("objections", []):
            kind = o["type"]
            added = any(t.startswith(f"added:{kind}@") for t in given) and o.get("confidence") == 1.0
            if added or f"objection:{kind}" in given or given.get(f"raised:{kind}") is True:
                found.append(Heard(_said(call, o, language), kind, added))
    return found


def _said(call: ReviewedCall, objection: Mapping[str, Any], language: str) -> Said:
    before = [u for u in call.utterances if u["speaker"] == "manager" and u["end"] <= objection["start"] + 0.5]
    return Said(objection["text"], before[-1]["text"] if before else None, language)


def refit(
    encoder: SentenceEncoder, pack: ScriptPack, calls: Sequence[ReviewedCall], base: PushbackModel
) -> tuple[PushbackModel | None, str]:
    """The team's model from the corpus and ``calls``' reviewed objections, or None and why not.
    ``base``: the model whose profiles name each pack type's generic type (the shipped one)."""
    sentences = heard(calls, pack.language)
    if len(sentences) < MIN_EXAMPLES:
        return None, (
            f"{len(sentences)} reviewed objection sentences in calls of {pack.id}; a refit needs "
            f"{MIN_EXAMPLES} or more (add, confirm or take out objections on the call pages)"
        )
    types = types_of(compile_pack(pack, encoder).objections, base)
    nearest = dict(zip(types.ids, types.nearest, strict=True))
    extra = [Example(h.said, NONE if h.type is None else nearest.get(h.type) or "other", pack.id, "reviewed")
             for h in sentences]  # fmt: skip
    # The sentences a reviewer pinned join their type's phrases; a confirmed objection's evidence
    # is the machine's sentence, not always the one that pushed back.
    phrases: dict[str, list[str]] = {}
    for h in sentences:
        if h.type is not None and h.pinned and h.said.text not in phrases.setdefault(h.type, []):
            phrases[h.type].append(h.said.text)
    model = fit(encoder, read_corpus(), extra, EXTRA_WEIGHT, phrases={k: v for k, v in phrases.items() if v})
    pushback = sum(h.type is not None for h in sentences)
    return model, (
        f"refitted on the corpus and {len(sentences)} reviewed sentences of {pack.id} "
        f"({pushback} pushback, {len(sentences) - pushback} not)"
    )
