"""Finding a script's phrases in what telephone ASR really writes.

On 8 kHz audio a small Whisper model gets a fair share of words wrong
("online sharps cut their delivery cards"), so a phrase is looked for in
several ways, and the best one wins:

- ``lemmas``: the phrase's lemmas appear in a row ("I was calling from" has
  the lemmas of "I'm calling from"); a pattern's ``*`` stands for any one word;
- ``fuzzy``: the phrase against every run of about as many words, by edit
  distance (rapidfuzz), which forgives misspelt and split words;
- ``phonetic``: the same over a consonant skeleton of each word with voiced
  and voiceless sounds merged, which forgives words misheard as others that
  sound alike;
- ``similar``: cosine similarity of character n-gram TF-IDF vectors,
  fitted on the call and the phrases, for paraphrases.

Each way's score is mapped onto one confidence scale: 0.5 at its threshold,
1.0 for a perfect match. A unit matches an item when the confidence is at
least 0.5.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist
from scipy.sparse import csr_matrix

from analysis.language import LanguagePipeline
from analysis.units import Unit, normalise

# Score at which each way counts as a match (fuzzy and phonetic: ratio / 100).
THRESHOLDS = {"fuzzy": 0.84, "phonetic": 0.88, "similar": 0.62}
# Single words are easy to hit by accident, so they need more.
SHORT_THRESHOLD = 0.9


@dataclass(frozen=True)
class Phrase:
    item: str  # the id of the checkpoint, objection, technique or forbidden phrase
    text: str
    words: tuple[str, ...]  # normalised
    lemmas: tuple[str, ...]  # "*" for a pattern's wildcard
    is_pattern: bool


@dataclass(frozen=True)
class Match:
    item: str
    unit: int  # index into the units
    confidence: float
    phrase: str  # the example phrase or pattern that matched
    method: str  # lemmas, pattern, fuzzy, phonetic or similar


def compile_phrases(
    items: Sequence[tuple[str, Sequence[str], Sequence[str]]], nlp: LanguagePipeline
) -> tuple[Phrase, ...]:
    """Phrases from ``(item id, example phrases, patterns)``, lemmatised once."""
    found = []
    for item, phrases, patterns in items:
        for text in phrases:
            words = tuple(normalise(text, nlp.language).split())
            found.append(Phrase(item, text, words, nlp.lemmas(text), False))
        for text in patterns:
            lemmas = tuple(
                "*" if token == "*" else lemma
                for token in text.split()
                for lemma in ((token,) if token == "*" else nlp.lemmas(token))
            )
            found.append(Phrase(item, text, (), lemmas, True))
    return tuple(found)


METHODS = ("lemmas", "fuzzy", "phonetic", "similar")


def lexical(phrases: Sequence[Phrase], units: Sequence[Unit]) -> tuple[np.ndarray, np.ndarray]:
    """Confidence of every phrase in every unit by its best way, and that way's index in METHODS.

    Both arrays are (phrase, unit).
    """
    scores = {
        "lemmas": _lemma_scores(phrases, units),
        "fuzzy": _window_scores([" ".join(p.words) for p in phrases], [u.words for u in units]),
        "phonetic": _window_scores(
            [" ".join(map(phonetic, p.words)) for p in phrases],
            [tuple(map(phonetic, u.words)) for u in units],
        ),
        "similar": _tfidf_scores(phrases, units),
    }
    stacked = np.stack([_confidence(method, scores[method], phrases) for method in METHODS])
    return stacked.max(axis=0), stacked.argmax(axis=0)


def method_name(phrase: Phrase, method: int) -> str:
    name = METHODS[method]
    return "pattern" if name == "lemmas" and phrase.is_pattern else name


def match(phrases: Sequence[Phrase], units: Sequence[Unit]) -> list[Match]:
    """For every item, each unit it matches, with the best confidence and how."""
    if not phrases or not units:
        return []
    best, best_method = lexical(phrases, units)
    found: dict[tuple[str, int], Match] = {}
    for p, u in zip(*np.nonzero(best >= 0.5), strict=True):
        phrase = phrases[p]
        method = method_name(phrase, int(best_method[p, u]))
        candidate = Match(phrase.item, int(u), round(float(best[p, u]), 3), phrase.text, method)
        key = (phrase.item, int(u))
        if key not in found or found[key].confidence < candidate.confidence:
            found[key] = candidate
    return sorted(found.values(), key=lambda m: (m.unit, -m.confidence))


def _confidence(method: str, scores: np.ndarray, phrases: Sequence[Phrase]) -> np.ndarray:
    if method == "lemmas":
        return scores
    threshold: np.ndarray = np.full(len(phrases), THRESHOLDS[method])
    if method != "similar":
        short = np.array([len(p.words) <= 1 for p in phrases])
        threshold[short] = np.maximum(threshold[short], SHORT_THRESHOLD)
    threshold = threshold[:, None]
    confidence = 0.5 + 0.5 * (scores - threshold) / (1 - threshold)
    return np.asarray(np.where(scores >= threshold, confidence, scores * 0.5 / threshold))


def _lemma_scores(phrases: Sequence[Phrase], units: Sequence[Unit]) -> np.ndarray:
    scores = np.zeros((len(phrases), len(units)))
    holding: dict[str, set[int]] = {}  # lemma -> the units that hold it
    for u, unit in enumerate(units):
        for lemma in unit.lemmas:
            holding.setdefault(lemma, set()).add(u)
    for p, phrase in enumerate(phrases):
        n = len(phrase.lemmas)
        anchors = [lemma for lemma in phrase.lemmas if lemma != "*"]
        if not anchors:
            continue
        candidates = set.intersection(*(holding.get(lemma, set()) for lemma in anchors))
        for u in candidates:
            lemmas = units[u].lemmas
            if any(
                all(want in ("*", got) for want, got in zip(phrase.lemmas, lemmas[i : i + n], strict=True))
                for i in range(len(lemmas) - n + 1)
            ):
                scores[p, u] = 1.0
    return scores


def _window_scores(phrases: Sequence[str], units: Sequence[Sequence[str]]) -> np.ndarray:
    """Best ratio (0..1) of each phrase against any run of n-1..n+1 words of each unit."""
    scores = np.zeros((len(phrases), len(units)))
    by_length: dict[int, list[int]] = {}
    for p, phrase in enumerate(phrases):
        if phrase:
            by_length.setdefault(len(phrase.split()), []).append(p)
    for n, rows in by_length.items():
        windows, owners = [], []
        for u, words in enumerate(units):
            for m in {max(1, n - 1), n, n + 1}:
                for i in range(max(1, len(words) - m + 1)):
                    windows.append(" ".join(words[i : i + m]))
                    owners.append(u)
        if not windows:
            continue
        ratios = cdist([phrases[p] for p in rows], windows, scorer=fuzz.ratio, dtype=np.uint8)
        owner = np.asarray(owners)
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        best = np.maximum.reduceat(ratios, starts, axis=1) / 100.0
        scores[np.ix_(np.asarray(rows), owner[starts])] = best
    return scores


def _tfidf_scores(phrases: Sequence[Phrase], units: Sequence[Unit]) -> np.ndarray:
    texts = [" ".join(p.words) for p in phrases]
    vectors = char_tfidf(texts + [" ".join(u.words) for u in units])
    similarity = (vectors[: len(texts)] @ vectors[len(texts) :].T).toarray()
    similarity[[not p.words for p in phrases]] = 0.0
    return np.asarray(similarity)


def char_tfidf(texts: Sequence[str]) -> csr_matrix:
    """L2-normalised TF-IDF rows (a SciPy CSR matrix) of each text's character 3- and 4-grams
    within words, sublinear term frequency, smoothed IDF fitted on ``texts``: the numbers of
    scikit-learn's ``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True)``,
    without its 1.3 s import in every command."""
    columns: dict[str, int] = {}
    rows, cols, counts = [], [], []
    for row, text in enumerate(texts):
        for gram, count in Counter(_char_grams(text.lower())).items():
            rows.append(row)
            cols.append(columns.setdefault(gram, len(columns)))
            counts.append(count)
    column = np.asarray(cols, dtype=np.int64)
    found = np.bincount(column, minlength=len(columns))  # texts holding each n-gram
    idf = np.log((len(texts) + 1) / (found + 1)) + 1
    values = (np.log(np.asarray(counts, dtype=np.float64)) + 1) * idf[column]
    matrix = csr_matrix((values, (rows, column)), shape=(len(texts), len(columns)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return csr_matrix(matrix.multiply(1 / np.maximum(norms, 1e-300)[:, None]))


def _char_grams(text: str) -> Iterator[str]:
    """The 3- and 4-grams of each word padded with a space either side; a word too short for
    one gives itself once."""
    for word in text.split():
        padded = f" {word} "
        for n in (3, 4):
            if len(padded) <= n:
                yield padded
                break
            yield from (padded[i : i + n] for i in range(len(padded) - n + 1))


_CYRILLIC = dict(
    zip(
        "абвгдежзийклмнопрстуфхцчшщъыьэюя",
        ["a", "b", "v", "g", "d", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f", "h", "ts", "ch", "sh", "sh", "", "y", "", "e", "iu", "ia"],
        strict=True,
    )
)
_SOUNDS = [
    ("ph", "f"), ("ck", "k"), ("gh", ""), ("kn", "n"), ("wr", "r"), ("th", "t"), ("sch", "sh"),
    ("ch", "sh"), ("zh", "sh"), ("ts", "s"), ("x", "ks"), ("q", "k"), ("c", "k"), ("w", "v"),
    ("b", "p"), ("d", "t"), ("g", "k"), ("v", "f"), ("z", "s"),
]  # fmt: skip


@functools.lru_cache(maxsize=65536)
def phonetic(word: str) -> str:
    """A rough sound key of one word: consonants, voiced and voiceless alike, vowels gone."""
    word = "".join(_CYRILLIC.get(ch, ch) for ch in word.lower())
    if not word:
        return word
    for written, sound in _SOUNDS:
        word = word.replace(written, sound)
    head, rest = word[0], re.sub(r"[aeiouyh]", "", word[1:])
    return re.sub(r"(.)\1+", r"\1", head + rest)
