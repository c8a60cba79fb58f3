"""The units the analysis works on: one sentence of one side, with its times and lemmas.

Whisper's words carry times; a sentence takes the times of its words. A
hand-written transcript without words gets times spread over its
utterance in proportion to the characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analysis.language import Analysed, LanguagePipeline
from transcribe.transcript import Role, Transcript, Utterance

_CONTRACTIONS = [
    (r"\bcan't\b", "can not"),
    (r"\bwon't\b", "will not"),
    (r"n't\b", " not"),
    (r"'m\b", " am"),
    (r"'re\b", " are"),
    (r"'ll\b", " will"),
    (r"'ve\b", " have"),
    (r"'d\b", " would"),
    (r"\b(it|that|there|what|he|she|who|let)'s\b", r"\1 is"),
]


def normalise(text: str, language: str) -> str:
    """Lower case, contractions spelt out, punctuation gone: what phrases are compared on."""
    text = text.lower().replace("’", "'").replace("ё", "е")
    if language == "en":
        for pattern, replacement in _CONTRACTIONS:
            text = re.sub(pattern, replacement, text)
        text = text.replace("let is", "let us")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


@dataclass(frozen=True)
class Unit:
    """One sentence said by one side."""

    speaker: Role
    start: float
    end: float
    text: str
    words: tuple[str, ...]  # normalised words
    lemmas: tuple[str, ...]
    is_question: bool
    turn: int  # index of its utterance in time order


def units(transcript: Transcript, nlp: LanguagePipeline) -> tuple[Unit, ...]:
    """Every sentence of the call, in time order."""
    ordered = sorted(transcript.utterances, key=lambda u: (u.start, u.end))
    analysed = nlp.analyse_many([u.text for u in ordered])
    found: list[Unit] = []
    for turn, (utterance, text) in enumerate(zip(ordered, analysed, strict=True)):
        found.extend(_sentences(utterance, turn, text, nlp.language))
    return tuple(found)


def _sentences(utterance: Utterance, turn: int, analysed: Analysed, language: str) -> list[Unit]:
    sentences = [s for s in analysed.sentences if s.lemmas]
    total = sum(len(s.text) for s in sentences) or 1
    found, used, chars = [], 0, 0
    for sentence in sentences:
        n = len(sentence.text.split())
        if len(utterance.words) >= used + n:
            start, end = utterance.words[used].start, utterance.words[used + n - 1].end
        else:
            span = utterance.end - utterance.start
            start = utterance.start + span * chars / total
            end = utterance.start + span * (chars + len(sentence.text)) / total
        used, chars = used + n, chars + len(sentence.text)
        found.append(
            Unit(
                speaker=utterance.speaker,
                start=round(start, 2),
                end=round(max(end, start), 2),
                text=sentence.text,
                words=tuple(normalise(sentence.text, language).split()),
                lemmas=sentence.lemmas,
                is_question=sentence.is_question,
                turn=turn,
            )
        )
    return found
