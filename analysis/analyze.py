"""From a Transcript and a script pack to a CallReport."""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from analysis.added import added_objections, pinned, with_verdicts
from analysis.checkpoints import check_checkpoints
from analysis.cues import names_time, takes_up
from analysis.language import pipeline
from analysis.matching import Match, Phrase, compile_phrases, match
from analysis.meaning import CUT, UNSURE, CompiledFamily, Item, compile_family, features, share_of
from analysis.meaning import matches as family_matches
from analysis.metrics import INTERRUPTION, conversation_metrics, silences
from analysis.objection_types import (
    PackTypes,
    Resistance,
    pack_types,
    resistance,
    unfitted,
    unprofiled,
)
from analysis.objections import find_objections
from analysis.pushback import PushbackModel, said_in_call, shipped_model
from analysis.report import CallReport, CheckpointResult, ForbiddenHit, ObjectionResult, ScriptRef
from analysis.scoring import score_call
from analysis.semantic import SentenceEncoder, bundled_encoder
from analysis.units import Unit, normalise, units
from analysis.weights import Family, Model, shipped_models
from callqa.errors import InputError
from scripts_lib.library import common_phrases
from scripts_lib.schema import ScriptPack
from transcribe.transcript import Role, Transcript


@dataclasses.dataclass(frozen=True)
class CompiledPack:
    """A pack's items, lemmatised and turned into vectors once, and reused for every call."""

    checkpoints: CompiledFamily
    objections: CompiledFamily
    techniques: CompiledFamily
    forbidden: tuple[Phrase, ...]


# By the encoder itself, not its id(): an id is reused once its object is gone.
_compiled: dict[tuple[str, SentenceEncoder | None], CompiledPack] = {}


def compile_pack(pack: ScriptPack, encoder: SentenceEncoder | None = None) -> CompiledPack:
    key = (pack.model_dump_json(), encoder)
    if key not in _compiled:
        nlp = pipeline(pack.language)

        def item(
            id: str, title: str, speaker: Role, phrases: Sequence[str], **where: float | None
        ) -> Item:
            asks = share_of(phrases, lambda p: nlp.analyse(p).questions > 0)
            when = share_of(phrases, lambda p: names_time(normalise(p, pack.language), pack.language))
            return Item(id, title, speaker, tuple(phrases), asks, when, **where)

        ordered = sorted((c for c in pack.checkpoints if c.order is not None), key=lambda c: c.order or 0)
        position = {c.id: (rank + 0.5) / len(ordered) for rank, c in enumerate(ordered)}
        checkpoints = [
            item(c.id, c.title, c.speaker, c.phrases, within_first=c.within_first,
                 within_last=c.within_last, position=position.get(c.id))
            for c in pack.checkpoints
        ]  # fmt: skip
        common = common_phrases(pack.language)
        objections = [item(o.id, o.title, "client", o.phrases) for o in pack.objections]
        techniques = [item(t.id, t.title, "manager", t.phrases) for t in pack.techniques]
        patterns = {c.id: c.patterns for c in pack.checkpoints}
        _compiled[key] = CompiledPack(
            checkpoints=compile_family(
                "checkpoint", checkpoints, patterns, common["checkpoints"], nlp, encoder
            ),
            objections=compile_family("objection", objections, {}, common["objections"], nlp, encoder),
            techniques=compile_family("technique", techniques, {}, common["techniques"], nlp, encoder),
            forbidden=compile_phrases([(f.phrase, (f.phrase,), ()) for f in pack.forbidden], nlp),
        )
    return _compiled[key]


def sentence_vectors(
    encoder: SentenceEncoder, transcript: Transcript, found: Sequence[Unit]
) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of every sentence, and of every whole turn (in time order, as ``Unit.turn``)."""
    turns = sorted(transcript.utterances, key=lambda u: (u.start, u.end))
    vectors = encoder.encode([u.text for u in found] + [t.text for t in turns])
    return vectors[: len(found)], vectors[len(found) :]


def sentence_encoder(language: str) -> tuple[SentenceEncoder | None, str | None]:
    """The bundled encoder for ``language``, or None and the reason matching falls back to wording."""
    try:
        encoder = bundled_encoder()
    except (ImportError, OSError) as error:
        return None, f"sentence meaning unavailable ({error}); verdicts compare wording only"
    return _serving(encoder, language)


def _serving(encoder: SentenceEncoder, language: str) -> tuple[SentenceEncoder | None, str | None]:
    if language not in encoder.languages:
        return None, (
            f"the sentence encoder does not serve language {language!r}; verdicts compare "
            "wording only, and paraphrases of the script's phrases will be missed"
        )
    return encoder, None


def analyze(
    transcript: Transcript,
    pack: ScriptPack,
    *,
    levels: dict[str, float] | None = None,
    overrides: Mapping[str, bool] | None = None,
    encoder: SentenceEncoder | Literal["bundled"] | None = "bundled",
    models: Mapping[Family, Model] | None = None,
    pushback: PushbackModel | None = None,
) -> CallReport:
    """Check ``transcript`` against ``pack``. ``levels``: speech dBFS per side, if the audio was read.

    ``overrides``: reviewers' verdicts that replace the machine's before scoring, such as
    ``{"checkpoint:greeting": True, "objection:price": False}`` (passed; handled),
    ``{"raised:trust": False}`` (no such objection; True for a possible one: it was raised),
    ``{"added:price@74.9": True}`` (an objection the machine missed, at that moment; handled), or
    ``{"mistake:interrupted_client@12.5": False}`` (a penalty that was no mistake).
    ``encoder``: sentence vectors for matching by meaning (``"bundled"``: the one callqa ships);
    None compares wording only, as does a pack in a language the encoder does not serve (the
    report's ``warnings`` say so). ``models``: the weights that combine the ways of matching
    (None: those callqa ships; ``bench/meaning.py`` fits others). ``pushback``: the model of the
    client's pushback (None: the one callqa ships; a team's own from ``callqa calibrate``).
    """
    if transcript.language != pack.language:
        raise InputError(
            f"script {pack.id}: it is for language {pack.language!r}, the call is in "
            f"{transcript.language!r}: analyse it with a script in {transcript.language!r}"
        )
    if encoder == "bundled":
        encoder, warning = sentence_encoder(pack.language)
    elif encoder is not None:
        encoder, warning = _serving(encoder, pack.language)
    else:
        warning = None
    compiled = compile_pack(with_team_phrases(pack, pushback), encoder)
    found = units(transcript, pipeline(pack.language))
    vectors = sentence_vectors(encoder, transcript, found) if encoder else None
    manager = [i for i, u in enumerate(found) if u.speaker == "manager"]

    def verdicts(family: CompiledFamily, floor: float = CUT, resisting: Resistance | None = None) -> list[Match]:
        """The family's matches at ``floor`` or more (under CUT: near misses, by meaning only)."""
        if vectors is None:
            speakers = {i.id: i.speaker for i in family.items}
            return [m for m in match(family.lexical, found) if found[m.unit].speaker == speakers[m.item]]
        values, nearest, how = features(family, found, vectors, transcript.duration, resisting)
        model = (models or shipped_models())[family.family]
        return family_matches(family, found, values, nearest, how, model, floor)

    near = CUT - UNSURE
    checkpoints = check_checkpoints(pack, found, verdicts(compiled.checkpoints, near), transcript.duration)
    added = added_objections(pack, overrides or {})
    refusing: list[int] = []  # the client's sentences that push back, of whatever type
    if vectors is None:
        said = verdicts(compiled.objections)
    else:
        resisting = pushback_of(compiled.objections, found, vectors, pushback)
        said = verdicts(compiled.objections, near, resisting)
        # Pushback the model is sure of that fits no type: a possible objection ("other") to hear.
        said += unfitted(resisting, found, [m for m in said if m.confidence >= CUT], CUT + UNSURE, pack.language)
        refusing = [i for i, u in enumerate(found) if u.speaker == "client" and resisting.probability[i] >= CUT]
    pins = pinned(added, found)
    objections, possible, stuck = find_objections(pack, found, said + pins, verdicts(compiled.techniques), refusing)
    objections = with_verdicts(objections, added, pins, found)
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
    verdicts_given = {k: v for k, v in (overrides or {}).items() if not k.startswith(("mistake:", "added:"))}
    if verdicts_given:
        checkpoints, objections, possible = apply_overrides(checkpoints, objections, possible, verdicts_given)
    dismissed = {k.removeprefix("mistake:") for k, v in (overrides or {}).items() if k.startswith("mistake:") and not v}
    proposal, agreed = _next_step(compiled, checkpoints, found, pack.language)
    metrics = conversation_metrics(transcript, found, pack.product_terms, levels)
    metrics = metrics.model_copy(update={"objection_seconds": stuck, "next_step_agreed": agreed})
    interruptions = [o.start for o in transcript.overlaps(INTERRUPTION) if o.by == "manager"]
    score, stages, mistakes = score_call(
        pack, checkpoints, objections, forbidden, metrics, interruptions, silences(transcript), proposal, dismissed
    )
    alone = transcript.role_method == "single-speaker"
    doubts = [w for w in (_unsure_language(transcript), _looping(transcript)) if w]
    return CallReport(
        script=ScriptRef(id=pack.id, version=pack.version, title=pack.title),
        score=score,
        stages=stages,
        checkpoints=checkpoints,
        objections=objections,
        possible_objections=possible,
        forbidden=forbidden,
        metrics=metrics,
        mistakes=mistakes,
        transcript=json.loads(transcript.to_json()),  # as JSON has it: lists, not tuples
        warnings=tuple(w for w in (warning, ONE_VOICE if alone else None, *doubts) if w),
        one_voice=alone,
        unreliable=bool(doubts),
    )


def with_team_phrases(pack: ScriptPack, model: PushbackModel | None) -> ScriptPack:
    """``pack`` with the sentences a team's reviewers heard as each objection type (``model``'s
    phrases) among that type's phrases."""
    if model is None or not model.phrases:
        return pack
    objections = tuple(
        o.model_copy(update={"phrases": (*o.phrases, *model.phrases.get(o.id, ()))}) for o in pack.objections
    )
    return pack.model_copy(update={"objections": objections})


def pack_warnings(pack: ScriptPack) -> list[str]:
    """What a trainer should know of a valid pack: objection types whose phrases fit no kind of
    pushback the model knows (found by their own phrases only)."""
    encoder, reason = sentence_encoder(pack.language)
    if encoder is None:
        return [reason] if reason else []
    types = types_of(compile_pack(pack, encoder).objections, shipped_model())
    return [
        f"objection {id}: its phrases fit no kind of pushback the model knows (price, timing, "
        "status quo, no need, authority, send information, trust, contract lock-in); it is found "
        "by its own phrases only, so give it more of them"
        for id in unprofiled(types)
    ]


def pushback_of(
    family: CompiledFamily,
    found: Sequence[Unit],
    vectors: tuple[np.ndarray, np.ndarray],
    model: PushbackModel | None = None,
) -> Resistance:
    """How each sentence of a call pushes back, by ``model`` (None: the one callqa ships), as
    features of the objection ``family``; ``vectors``: the sentences' and the turns'."""
    model = model or shipped_model()
    said = said_in_call(found, family.language)
    sentences, turns = vectors
    befores = np.zeros_like(sentences)
    for i, (u, s) in enumerate(zip(found, said, strict=True)):
        if s.before is not None:
            befores[i] = turns[u.turn - 1]
    own = turns[[u.turn for u in found]] if found else np.zeros_like(sentences)
    return resistance(model, types_of(family, model), found, said, (sentences, own, befores))


def types_of(family: CompiledFamily, model: PushbackModel) -> PackTypes:
    """The objection ``family``'s types as ``model`` sees them (their phrases' and titles' vectors)."""
    return pack_types(model, [item.id for item in family.items], family.vectors)


def _unsure_language(transcript: Transcript) -> str | None:
    if transcript.sounded_like is None:
        return None
    return (f"the speech did not sound clearly like {transcript.language!r}, the script's language, in which "
            f"it was heard (the nearest other was {transcript.sounded_like!r}): if the transcript reads as "
            "nonsense, listen to the recording")


# A turn of at least LOOP_WORDS words whose text compresses this well repeats itself: Whisper's
# own sign of a decoding loop ("Я огомарю. Я огомарю. ..."), where the speech could not be heard.
# The development set's reference turns reach 1.73; a phrase said four times over, 3.8.
LOOP_RATIO = 2.4
LOOP_WORDS = 12


def _looping(transcript: Transcript) -> str | None:
    for u in transcript.utterances:
        text = u.text.encode()
        if len(u.text.split()) >= LOOP_WORDS and len(text) / len(zlib.compress(text)) >= LOOP_RATIO:
            return (f"the transcript repeats itself at {u.start:.0f} s ({u.speaker}): the recogniser may have looped "
                    "where it could not hear the speech; listen to the recording before trusting the verdicts")
    return None


# What a recording heard as one voice leaves unchecked.
ONE_VOICE = ("one voice was heard (a voicemail, a monologue): every word is taken as the manager's, "
             "and the client's side could not be checked")  # fmt: skip


def _next_step(
    compiled: CompiledPack, checkpoints: Sequence[CheckpointResult], found: Sequence[Unit], language: str
) -> tuple[CheckpointResult | None, bool | None]:
    """The step with a day and time the manager proposed (the checkpoint whose examples name one
    most often), and whether the client took it in reply to one of the manager's days or times."""
    timed = max(compiled.checkpoints.items, key=lambda i: i.when)
    proposal = next((c for c in checkpoints if c.id == timed.id and c.passed and c.evidence), None)
    if timed.when == 0 or proposal is None:
        return None, None
    since = min(e.start for e in proposal.evidence)
    offers = [
        i for i, u in enumerate(found)
        if u.speaker == "manager" and u.start >= since and names_time(" ".join(u.words), language)
    ]  # fmt: skip
    replies = {_reply_turn(found, i) for i in offers}
    return proposal, any(takes_up(found, j, language) for j, u in enumerate(found) if u.turn in replies)


def _reply_turn(found: Sequence[Unit], i: int) -> int | None:
    return next((u.turn for u in found[i + 1 :] if u.speaker != found[i].speaker), None)


def apply_overrides(
    checkpoints: tuple[CheckpointResult, ...],
    objections: tuple[ObjectionResult, ...],
    possible: tuple[ObjectionResult, ...],
    overrides: Mapping[str, bool],
) -> tuple[tuple[CheckpointResult, ...], tuple[ObjectionResult, ...], tuple[ObjectionResult, ...]]:
    """Reviewers' verdicts in place of the machine's: the checkpoints, objections and possible
    objections as the reviewer has them. An overridden checkpoint counts as in place; ``raised:TYPE``
    False takes that objection out, True counts a possible one; an objection verdict (handled)
    applies to the last time that type was raised (the one that decides). Those not counted
    are the possible objections returned."""
    known = {f"checkpoint:{c.id}" for c in checkpoints}
    known |= {f"{kind}:{o.type}" for o in (*objections, *possible) for kind in ("objection", "raised")}
    unknown = set(overrides) - known
    if unknown:
        raise InputError(
            f"review target {min(unknown)!r}: not a checkpoint or objection of this report"
        )
    checkpoints = tuple(
        c.model_copy(update={"passed": overrides[f"checkpoint:{c.id}"], "misplaced": None, "unsure": False})
        if f"checkpoint:{c.id}" in overrides else c
        for c in checkpoints
    )  # fmt: skip
    raised = {o.type: overrides.get(f"raised:{o.type}", True) for o in objections}
    raised |= {o.type: overrides.get(f"raised:{o.type}", False) for o in possible}
    # A verdict a reviewer gave is no longer unsure.
    every = sorted(
        (o.model_copy(update={"unsure": False}) if f"raised:{o.type}" in overrides else o
         for o in (*objections, *possible)),
        key=lambda o: o.start,
    )  # fmt: skip
    counted = [o for o in every if raised[o.type]]
    last = {o.type: i for i, o in enumerate(counted)}
    told = tuple(
        o.model_copy(update={"handled": overrides[f"objection:{o.type}"], "unsure": False})
        if f"objection:{o.type}" in overrides and last[o.type] == i else o
        for i, o in enumerate(counted)
    )  # fmt: skip
    # One taken out stays in view as a possible one, for the reviewer to count again.
    return checkpoints, told, tuple(o for o in every if not raised[o.type])


def _match_on(
    phrases: Sequence[Phrase], found: Sequence[Unit], indices: Sequence[int]
) -> list[Match]:
    """Matches over the units at ``indices`` only, with unit numbers into ``found``."""
    subset = [found[i] for i in indices]
    return [dataclasses.replace(m, unit=indices[m.unit]) for m in match(phrases, subset)]
