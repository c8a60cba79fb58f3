"""Conversation metrics: who talked how much, monologues, interruptions, silences, questions, voice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from analysis.report import Metrics
from analysis.units import Unit, normalise
from transcribe.transcript import Transcript, Utterance

# A pause of nobody speaking this long counts as a silence.
SILENCE = 3.0
# Talking over the other side for at least this long is an interruption.
INTERRUPTION = 0.5

_OPEN_OPENERS = {
    "en": frozenset(["what", "how", "why", "which", "where", "when", "who", "tell", "describe"]),
    "ru": frozenset(["что", "как", "почему", "зачем", "какой", "какая", "какие", "где", "когда", "кто", "расскажите", "опишите", "сколько"]),
}
_FILLERS = {
    "en": ("um", "uh", "erm", "hmm", "you know", "i mean", "basically", "kind of", "sort of"),
    "ru": ("ну", "э", "эм", "как бы", "типа", "короче", "это самое", "в общем", "значит"),
}
# Words of a manager statement about the seller's side, not the client's.
_SELLER = {"en": frozenset(["we", "our", "us", "ours"]), "ru": frozenset(["мы", "наш", "нас", "нам", "наши"])}
_CLIENT = {"en": frozenset(["you", "your", "yours"]), "ru": frozenset(["вы", "ваш", "вас", "вам", "ваши"])}


def conversation_metrics(
    transcript: Transcript,
    units: Sequence[Unit],
    product_terms: Sequence[str] = (),
    levels: dict[str, float] | None = None,
) -> Metrics:
    """Metrics of one call. ``levels``: speech loudness (dBFS) per side, when the audio is at hand."""
    language = transcript.language if transcript.language in _FILLERS else "en"
    utterances = sorted(transcript.utterances, key=lambda u: u.start)
    talk = {role: covered([(u.start, u.end) for u in utterances if u.speaker == role]) for role in ("manager", "client")}
    total_talk = talk["manager"] + talk["client"]
    monologue, monologue_start = _longest_monologue(utterances)
    overlaps = [o for o in transcript.overlaps() if o.end - o.start >= INTERRUPTION]
    pauses = [seconds for _, seconds in silences(transcript)]
    manager = [u for u in units if u.speaker == "manager"]
    manager_words = sum(len(u.words) for u in manager)
    questions = [u for u in manager if u.is_question]
    open_questions = sum(bool(u.words) and u.words[0] in _OPEN_OPENERS[language] for u in questions)
    fillers = sum(_count_fillers(u.words, _FILLERS[language]) for u in manager)
    minutes = max(transcript.duration, 1e-9) / 60
    levels = levels or {}
    return Metrics(
        duration=round(transcript.duration, 2),
        manager_talk_seconds=round(talk["manager"], 2),
        client_talk_seconds=round(talk["client"], 2),
        manager_talk_share=round(talk["manager"] / total_talk, 3) if total_talk else 0.0,
        longest_monologue=round(monologue, 2),
        longest_monologue_start=monologue_start,
        interruptions_by_manager=sum(o.by == "manager" for o in overlaps),
        interruptions_by_client=sum(o.by == "client" for o in overlaps),
        overlap_seconds=round(sum(o.end - o.start for o in transcript.overlaps()), 2),
        silences=len(pauses),
        longest_silence=round(max(pauses, default=0.0), 2),
        manager_words_per_minute=round(manager_words / (talk["manager"] / 60), 1) if talk["manager"] else 0.0,
        questions_open=open_questions,
        questions_closed=len(questions) - open_questions,
        pitch_share=_pitch_share(manager, language, product_terms),
        filler_words=fillers,
        fillers_per_minute=round(fillers / minutes, 2),
        objection_seconds=0.0,
        manager_level_dbfs=levels.get("manager"),
        client_level_dbfs=levels.get("client"),
    )


def voice_levels(blocks: Iterable[np.ndarray], transcript: Transcript, rate: int) -> dict[str, float]:
    """Speech loudness in dBFS per side: the RMS over each side's utterances, on its channel.

    ``blocks``: the recording as consecutive (channels, samples) arrays, so a long call is
    never in memory whole.
    """
    power = {"manager": 0.0, "client": 0.0}
    count = {"manager": 0, "client": 0}
    offset = 0
    for block in blocks:
        for u in transcript.utterances:
            first = max(int(u.start * rate) - offset, 0)
            last = min(int(u.end * rate) - offset, block.shape[1])
            if last > first:
                samples = block[min(u.channel, len(block) - 1), first:last].astype(np.float64)
                power[u.speaker] += float(np.dot(samples, samples))
                count[u.speaker] += last - first
        offset += block.shape[1]
    return {
        role: round(10 * float(np.log10(max(power[role] / count[role], 1e-20))), 1)
        for role in power
        if count[role]
    }


def covered(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by the union of ``spans``."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def _longest_monologue(utterances: Sequence[Utterance]) -> tuple[float, float]:
    """The longest stretch of manager speech with no client word in it."""
    best, best_start = 0.0, 0.0
    start = end = None
    for u in utterances:
        if u.speaker == "client":
            start = None
            continue
        if start is None or end is None:
            start, end = u.start, u.end
        else:
            end = max(end, u.end)
        if end - start > best:
            best, best_start = end - start, start
    return best, round(best_start, 2)


def silences(transcript: Transcript, at_least: float = SILENCE) -> list[tuple[float, float]]:
    """Pauses where nobody speaks, as (start, seconds)."""
    gaps: list[tuple[float, float]] = []
    reach = None
    for u in sorted(transcript.utterances, key=lambda u: u.start):
        if reach is not None and u.start - reach >= at_least:
            gaps.append((round(reach, 2), round(u.start - reach, 2)))
        reach = u.end if reach is None else max(reach, u.end)
    return gaps


def _count_fillers(words: Sequence[str], fillers: Sequence[str]) -> int:
    text = f" {' '.join(words)} "
    return sum(text.count(f" {filler} ") for filler in fillers)


def _pitch_share(manager: Sequence[Unit], language: str, product_terms: Sequence[str]) -> float:
    """Of the manager's statements (not questions), the share about the seller and its product."""
    terms = [normalise(t, language) for t in product_terms]
    statements = [u for u in manager if not u.is_question]
    if not statements:
        return 0.0
    pitch = 0
    for u in statements:
        words, text = set(u.words), " ".join(u.words)
        seller = words & _SELLER[language] or any(t in text for t in terms)
        pitch += bool(seller) and not (words & _CLIENT[language])
    return round(pitch / len(statements), 3)
