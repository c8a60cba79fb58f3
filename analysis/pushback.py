"""The client's pushback: one model of resistance itself, learned once for every product.

A pack gives a handful of phrases per objection type, and a sentence compared with them cannot
tell "we spend nine grand a month on diesel" (an answer) from "we can't stretch to another
monthly subscription" (pushback): both are about money. So the question is asked in two steps:

1. *Is this client sentence resisting buying or going on?* A logistic model over the
   sentence's vector (``analysis.semantic``), the vector of the manager's turn before it (what
   is being answered: a question about the fleet, or a price), and cues of the dialogue: how
   near the sentence is to that turn (an answer is near its question), whether the turn asked,
   a "but" or a negation, a question, a short reply. Its probability is the confidence.
2. *Of which generic type?* A second model (multinomial, over the sentence's vector) gives
   GENERIC's probabilities; ``analysis.objection_types`` takes them to the pack's own types.

Both are trained on ``analysis/corpus/`` (client turns of many industries, each labelled with
a generic type or ``none``; ``bench/objections.py --write``) and ship in
``pushback_weights.npz``. A team's reviewed calls add their sentences to the corpus
(``fit``'s ``extra``).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from analysis.cues import pushes_back
from analysis.language import pipeline
from analysis.semantic import SentenceEncoder
from analysis.units import Unit, normalise

GENERIC = ("price", "timing", "status_quo", "no_need", "authority", "send_info", "trust", "lock_in", "other")
NONE = "none"
CUES = ("answer_likeness", "answers", "asked", "but_or_not", "question", "short")
# A reply of fewer words than this ("Right.", "A minute, yes.") is short.
SHORT_WORDS = 4
CORPUS = "corpus"
WEIGHTS = "pushback_weights.npz"


@dataclass(frozen=True)
class Said:
    """A client's sentence (or a corpus turn) with the manager's turn it answers, if any."""

    text: str
    before: str | None
    language: str


@dataclass(frozen=True)
class Example:
    """One labelled client turn of the corpus."""

    said: Said
    label: str  # one of GENERIC, or NONE
    industry: str
    source: str  # the corpus file


def read_corpus(root: Path | None = None, languages: Sequence[str] | None = None) -> tuple[Example, ...]:
    """Every labelled turn of the corpus (``analysis/corpus/LANGUAGE/*.yaml``)."""
    base = root or Path(str(resources.files("analysis").joinpath(CORPUS)))
    found: list[Example] = []
    for path in sorted(base.glob("*/*.yaml")):
        if languages is not None and path.parent.name not in languages:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for n, turn in enumerate(data["turns"]):
            label = turn["label"]
            if label not in (*GENERIC, NONE):
                raise ValueError(f"{path}: turn {n + 1}: label {label!r} is not one of {GENERIC + (NONE,)}")
            said = Said(turn["client"].strip(), turn.get("manager"), data["language"])
            found.append(Example(said, label, data["industry"], f"{path.parent.name}/{path.name}"))
    return tuple(found)


def cues(said: Sequence[Said], texts: np.ndarray, befores: np.ndarray) -> np.ndarray:
    """The dialogue's cues (CUES) for each of ``said``, given the vectors of the texts and of the
    turns before (a zero row where there is none)."""
    values = np.zeros((len(said), len(CUES)))
    for i, s in enumerate(said):
        nlp = pipeline(s.language)
        words = normalise(s.text, s.language)
        answers = s.before is not None
        values[i] = (
            float(texts[i] @ befores[i]) if answers else 0.0,
            answers,
            answers and nlp.analyse(s.before or "").questions > 0,
            pushes_back(words, s.language),
            nlp.analyse(s.text).questions > 0,
            len(words.split()) < SHORT_WORDS,
        )
    return values


def design(texts: np.ndarray, befores: np.ndarray, cue_values: np.ndarray) -> np.ndarray:
    """The pushback model's inputs: the text's vector, the turn before's, the cues."""
    return np.hstack([texts, befores, cue_values])


def encode_said(encoder: SentenceEncoder, said: Sequence[Said]) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of the texts and of the turns before them (zero rows where there is none)."""
    texts = encoder.encode([s.text for s in said])
    befores = np.zeros_like(texts)
    answering = [i for i, s in enumerate(said) if s.before]
    if answering:
        befores[answering] = encoder.encode([said[i].before or "" for i in answering])
    return texts, befores


@dataclass(frozen=True)
class PushbackModel:
    """The two models: is it pushback (logistic), and of which GENERIC type (multinomial)."""

    coef: np.ndarray  # over ``design``'s columns
    bias: float
    type_coef: np.ndarray  # (GENERIC, vector dimensions)
    type_bias: np.ndarray  # (GENERIC,)
    centroids: np.ndarray  # (GENERIC, vector dimensions): the mean direction of each type's turns
    trained_on: str  # what it was fitted on, for the record
    # A team's own: per objection type of its pack, the sentences its reviewers heard as that
    # type, compared with a call's sentences as the pack's phrases are.
    phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def pushback(self, inputs: np.ndarray) -> np.ndarray:
        """The probability that each row (``design``) is pushback."""
        return np.asarray(1 / (1 + np.exp(-(inputs @ self.coef + self.bias))))

    def generic(self, vectors: np.ndarray) -> np.ndarray:
        """Per row of sentence vectors, the probabilities of GENERIC (rows sum to one)."""
        z = vectors @ self.type_coef.T + self.type_bias
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return np.asarray(z / z.sum(axis=1, keepdims=True))

    def save(self, path: Path) -> None:
        path.write_bytes(self.dump())

    def dump(self) -> bytes:
        """The model as the bytes ``load`` reads."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, coef=self.coef.astype(np.float32), bias=np.float64(self.bias),
            type_coef=self.type_coef.astype(np.float32), type_bias=self.type_bias.astype(np.float32),
            centroids=self.centroids.astype(np.float32), generic=np.array(GENERIC), cues=np.array(CUES),
            trained_on=np.array(self.trained_on), phrases=np.array(json.dumps(dict(self.phrases), ensure_ascii=False)),
        )  # fmt: skip
        return buffer.getvalue()

    @classmethod
    def load(cls, data: bytes, name: str) -> PushbackModel:
        with np.load(io.BytesIO(data)) as saved:
            if tuple(saved["generic"]) != GENERIC or tuple(saved["cues"]) != CUES:
                raise RuntimeError(f"{name}: fitted on other types or cues; run bench/objections.py --write")
            return cls(
                saved["coef"].astype(np.float64), float(saved["bias"]),
                saved["type_coef"].astype(np.float64), saved["type_bias"].astype(np.float64),
                saved["centroids"].astype(np.float64), str(saved["trained_on"]),
                {k: tuple(v) for k, v in json.loads(str(saved["phrases"])).items()},
            )  # fmt: skip


@functools.cache
def shipped_model() -> PushbackModel:
    """The model that ships with callqa, fitted on the corpus alone."""
    return PushbackModel.load(resources.files("analysis").joinpath(WEIGHTS).read_bytes(), WEIGHTS)


# The inverse regularisation of each model (scikit-learn's C), on standardised inputs.
PUSHBACK_C = 0.03
TYPE_C = 0.1


def fit(
    encoder: SentenceEncoder,
    examples: Sequence[Example],
    extra: Sequence[Example] = (),
    extra_weight: float = 3.0,
    phrases: Mapping[str, Sequence[str]] | None = None,
) -> PushbackModel:
    """Both models from labelled turns: ``examples`` (the corpus) and ``extra`` (a team's reviewed
    sentences, each counted ``extra_weight`` times); ``phrases``: the team's sentences per pack
    type, kept with the model. Every turn is also learnt as a speech recogniser writes it (lower
    case, no punctuation)."""
    # lazy: scikit-learn only where a model is fitted, not where one is used
    from sklearn.linear_model import LogisticRegression

    every = [*examples, *extra]
    said = [e.said for e in every]
    said += [Said(normalise(s.text, s.language), s.before, s.language) for s in said]
    labels = np.array([e.label for e in every] * 2)
    weights = np.array(([1.0] * len(examples) + [extra_weight] * len(extra)) * 2)
    texts, befores = encode_said(encoder, said)
    inputs = design(texts, befores, cues(said, texts, befores))
    mean, scale = inputs.mean(axis=0), inputs.std(axis=0)
    scale[scale == 0] = 1.0
    binary = LogisticRegression(C=PUSHBACK_C, max_iter=2000)
    binary.fit((inputs - mean) / scale, labels != NONE, sample_weight=weights)
    coef = binary.coef_[0] / scale
    pushed = labels != NONE
    centre, spread = texts.mean(axis=0), texts.std(axis=0)
    typed = LogisticRegression(C=TYPE_C, max_iter=2000)
    typed.fit((texts[pushed] - centre) / spread, labels[pushed], sample_weight=weights[pushed])
    order = [list(typed.classes_).index(g) if g in typed.classes_ else -1 for g in GENERIC]
    type_coef = np.array([typed.coef_[k] / spread if k >= 0 else np.zeros(texts.shape[1]) for k in order])
    type_bias = np.array([typed.intercept_[k] - type_coef[i] @ centre if k >= 0 else -1e3
                          for i, k in enumerate(order)])  # fmt: skip
    centroids = np.array([texts[labels == g].mean(axis=0) if np.any(labels == g) else texts.mean(axis=0)
                          for g in GENERIC])  # fmt: skip
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    digest = hashlib.sha256("\n".join(f"{s.text}|{s.before}|{y}" for s, y in zip(said, labels)).encode())
    return PushbackModel(
        coef, float(binary.intercept_[0] - coef @ mean), type_coef, type_bias, centroids,
        f"{len(examples)} corpus turns, {len(extra)} reviewed sentences, sha256 {digest.hexdigest()[:12]}",
        {k: tuple(v) for k, v in (phrases or {}).items()},
    )  # fmt: skip


def said_in_call(units: Sequence[Unit], language: str) -> list[Said]:
    """Each sentence of a call with the manager's turn just before its own turn, if any (the
    model reads the client's)."""
    turns: dict[int, list[Unit]] = {}
    for u in units:
        turns.setdefault(u.turn, []).append(u)
    found = []
    for u in units:
        before = turns.get(u.turn - 1, [])
        answered = " ".join(b.text for b in before) if before and before[0].speaker == "manager" else None
        found.append(Said(u.text, answered, language))
    return found
