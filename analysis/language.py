"""The language pipeline: tokens, lemmas, sentences and questions, per language, offline.

spaCy blank pipelines, built without downloading a model: English lemmas come
from lookup tables (spacy-lookups-data), Russian ones from pymorphy3.
Telephone ASR often drops the question mark, so a sentence that opens with a
question word (or holds Russian "ли") counts as a question too.
"""

from __future__ import annotations

import functools
import importlib.abc
import sys
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from callqa.errors import InputError

LANGUAGES = ("en", "ru")

_QUESTION_OPENERS = {
    "en": frozenset(
        [
            "what",
            "how",
            "when",
            "why",
            "who",
            "whom",
            "whose",
            "which",
            "where",
            "do",
            "does",
            "did",
            "are",
            "is",
            "was",
            "were",
            "can",
            "could",
            "would",
            "will",
            "shall",
            "should",
            "have",
            "has",
            "may",
        ]
    ),
    "ru": frozenset(
        [
            "что",
            "как",
            "когда",
            "почему",
            "зачем",
            "кто",
            "какой",
            "какая",
            "какие",
            "где",
            "куда",
            "сколько",
            "разве",
            "неужели",
        ]
    ),
}


@dataclass(frozen=True)
class Sentence:
    text: str
    lemmas: tuple[str, ...]  # lower-case lemmas of its words, punctuation left out
    is_question: bool


@dataclass(frozen=True)
class Analysed:
    text: str
    sentences: tuple[Sentence, ...]

    @property
    def lemmas(self) -> tuple[str, ...]:
        return tuple(lemma for s in self.sentences for lemma in s.lemmas)

    @property
    def questions(self) -> int:
        return sum(s.is_question for s in self.sentences)


class LanguagePipeline:
    """Tokenise, lemmatise and split into sentences one language's text."""

    def __init__(self, language: str) -> None:
        spacy = _spacy()
        if language not in LANGUAGES:
            raise InputError(
                f"language {language!r}: not supported (supported: {', '.join(LANGUAGES)})"
            )
        self.language = language
        self._nlp: Any = spacy.blank(language)
        mode = "lookup" if language == "en" else "pymorphy3"
        self._nlp.add_pipe("lemmatizer", config={"mode": mode})
        self._nlp.add_pipe("sentencizer")
        self._nlp.initialize()

    def analyse(self, text: str) -> Analysed:
        doc = self._nlp(text)
        return Analysed(text, tuple(self._sentence(s) for s in doc.sents))

    def analyse_many(self, texts: list[str]) -> list[Analysed]:
        """``analyse`` over many texts at once (spaCy batches them)."""
        return [
            Analysed(doc.text, tuple(self._sentence(s) for s in doc.sents))
            for doc in self._nlp.pipe(texts)
        ]

    def lemmas(self, text: str) -> tuple[str, ...]:
        return self.analyse(text).lemmas

    def _sentence(self, span: Any) -> Sentence:
        words = [t for t in span if not (t.is_punct or t.is_space)]
        lemmas = tuple((t.lemma_ or t.text).lower() for t in words)
        opener = words[0].text.lower() if words else ""
        question = (
            span.text.rstrip().endswith("?")
            or opener in _QUESTION_OPENERS[self.language]
            or (self.language == "ru" and "ли" in lemmas)
        )
        return Sentence(span.text.strip(), lemmas, question)


class _Refused(importlib.abc.MetaPathFinder):
    """Makes ``import torch`` fail, in the thread that is importing spaCy only."""

    def __init__(self) -> None:
        self.active = threading.local()

    def find_spec(self, fullname: str, *_: Any) -> None:
        if fullname.partition(".")[0] == "torch" and getattr(self.active, "on", False):
            raise ModuleNotFoundError("torch: not needed by the language pipeline", name=fullname)


_REFUSED = _Refused()
sys.meta_path.insert(0, _REFUSED)


def _spacy() -> ModuleType:
    """spaCy, imported on first need. Its thinc imports PyTorch whenever it is installed (2 s of a
    command's start), for neural models a blank pipeline never runs: refused here, in this thread.
    Where PyTorch is loaded already (openai-whisper, the voice encoder), thinc takes it as it is."""
    _REFUSED.active.on = True
    try:
        # lazy: spaCy is slow to import: only when a language pipeline is built
        import spacy
    finally:
        _REFUSED.active.on = False
    return spacy


@functools.cache
def pipeline(language: str) -> LanguagePipeline:
    """The pipeline for ``language``, built once per process."""
    return LanguagePipeline(language)
