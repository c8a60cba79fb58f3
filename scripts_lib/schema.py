"""A sales script pack: the checklist a trainer writes in YAML, as typed, immutable models.

Unknown keys are refused (a typo must not silently switch a checkpoint off),
and every list of ids must be unique. The docstring under each field is its description in the
pack reference (``scripts_lib.reference``, ``docs/pack-reference.md``).
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Speaker = Literal["manager", "client"]
Severity = Literal["low", "medium", "high"]
BehaviourCode = Literal[
    "unhandled_objection", "interrupted_client", "long_monologue", "dead_air", "quiet_voice",
    "pitching_not_asking", "unagreed_next_step",
]  # fmt: skip
ID_PATTERN = r"^[a-z][a-z0-9_]*$"
ID_RULE = "lower_snake_case (a lower-case letter, then lower-case letters, digits or _)"  # in words
Id = Field(pattern=ID_PATTERN)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Checkpoint(_Model):
    """One thing the script expects to be said, such as the greeting or an agreed next step.
    A checkpoint needs at least one of ``phrases`` or ``patterns``."""

    id: str = Id
    """Names the checkpoint in reports and reviews (``checkpoint:ID``, ``missed_checkpoint:ID``)."""
    title: str
    """Shown on the pages and in the report."""
    speaker: Speaker = "manager"
    """Who is expected to say it."""
    phrases: tuple[str, ...] = ()
    """Example phrases, matched by meaning and by wording, so paraphrases and ASR's mistakes still
    count. Write how your managers say it; a handful is enough."""
    patterns: tuple[str, ...] = ()
    """Patterns over lemmas, ``*`` being any one word, e.g. "call * back" or "меня зовут"."""
    required: bool = True
    """false: a miss costs nothing, and the checkpoint is shown as optional."""
    weight: float = Field(default=1.0, ge=0)
    """Its share of the checkpoints' points, by weight."""
    order: int | None = Field(default=None, ge=1)
    """Expected position among the stages (1 = first); none: anywhere."""
    within_first: float | None = Field(default=None, gt=0)
    """Expected in the first this many seconds of the call."""
    within_last: float | None = Field(default=None, gt=0)
    """Expected in the last this many seconds of the call."""
    advice: str
    """Shown to the manager when the checkpoint is missed."""

    @model_validator(mode="after")
    def _has_something_to_match(self) -> Checkpoint:
        if not self.phrases and not self.patterns:
            raise ValueError("a checkpoint needs at least one of phrases or patterns")
        return self


class Objection(_Model):
    """A kind of objection clients raise, such as price or "call me later"."""

    id: str = Id
    """Names the objection type in reports, filters and reviews (``objection:ID``)."""
    title: str
    """Shown on the pages and in the report."""
    phrases: tuple[str, ...] = Field(min_length=1)
    """How clients say it, in their words: a few phrases, found by meaning."""
    responses: tuple[str, ...] = ()
    """Answers that worked in this team's calls (``callqa mine`` proposes them); the first is quoted
    in the advice of a call that leaves the objection unhandled."""


class Technique(_Model):
    """A way of handling objections, such as acknowledging or asking a clarifying question.
    A technique needs ``phrases``, or ``questions: true``."""

    id: str = Id
    """Names the technique in the report's objections (``techniques``)."""
    title: str
    """Shown on the pages and in the report."""
    phrases: tuple[str, ...] = ()
    """What the manager says in answer to an objection when using it."""
    questions: bool = False
    """Any question the manager asks in answer to an objection counts as this technique."""

    @model_validator(mode="after")
    def _has_something_to_match(self) -> Technique:
        if not self.phrases and not self.questions:
            raise ValueError("a technique needs phrases, or questions: true")
        return self


class ForbiddenPhrase(_Model):
    """Words a manager must never say to a client."""

    phrase: str = Field(min_length=1)
    """The words, looked for in what the manager says."""
    severity: Severity = "medium"
    """What it costs: ``scoring.forbidden_penalty`` of this severity."""
    advice: str = "Never say this to a client: it reads as not caring. Learn a better answer for the moment."
    """Shown with the mistake."""


def _default_penalties() -> dict[Severity, float]:
    return {"low": 2.0, "medium": 5.0, "high": 10.0}


class Scoring(_Model):
    """Points taken off a call's score of 100, besides the weighted checkpoints."""

    checkpoints_share: float = Field(default=0.8, ge=0, le=1)
    """Share of the score (0 to 1) that the weighted checkpoints make up; handled objections make
    up the rest (a call without objections is scored on its checkpoints)."""
    forbidden_penalty: dict[Severity, float] = Field(default_factory=_default_penalties)
    """Points off per forbidden phrase said, by its severity."""
    misplaced_penalty: float = Field(default=3.0, ge=0)
    """Points off for a checkpoint out of its order or time window."""
    interruption_penalty: float = Field(default=2.0, ge=0)
    """Points off each time the manager talks over the client (counted up to three times)."""
    max_monologue: float = Field(default=60.0, gt=0)
    """A manager monologue longer than this many seconds costs ``monologue_penalty`` points."""
    monologue_penalty: float = Field(default=3.0, ge=0)
    """Points off for a monologue longer than ``max_monologue``."""
    max_silence: float = Field(default=8.0, gt=0)
    """Silence of nobody speaking longer than this many seconds costs ``dead_air_penalty`` points."""
    dead_air_penalty: float = Field(default=2.0, ge=0)
    """Points off for a silence longer than ``max_silence``."""
    quiet_db: float = Field(default=10.0, gt=0)
    """The manager's voice more than this many dB quieter than the client's costs ``quiet_penalty``."""
    quiet_penalty: float = Field(default=3.0, ge=0)
    """Points off for a manager's voice ``quiet_db`` quieter than the client's."""
    unagreed_penalty: float = Field(default=10.0, ge=0)
    """A step with a day and time proposed (a checkpoint whose examples name one) that the client
    never agreed to costs this many points: the call ended without a commitment."""
    advice: dict[BehaviourCode, str] = Field(default_factory=dict)
    """The advice shown with these mistakes, in the pack's language (defaults are English)."""


class ScriptPack(_Model):
    """A team's sales script: what its calls are checked against, and how they are scored."""

    id: str = Id
    """Names the pack: calls, numbers and uploads name it by its id (or ``ID@VERSION``)."""
    version: int = Field(default=1, ge=1, le=2**31 - 1)  # what a database integer holds
    """A pack stored again with changes is the next version."""
    title: str
    """Shown on the pages and in the report."""
    language: Literal["en", "ru"]
    """The calls' language, and the phrases'."""
    product_terms: tuple[str, ...] = ()
    """Names of the products and the company: the manager's statements that name them count as
    talk about the product (the ``pitch_share`` metric)."""
    checkpoints: tuple[Checkpoint, ...] = Field(min_length=1)
    """What the manager (or the client) is expected to say, stage by stage."""
    objections: tuple[Objection, ...] = ()
    """The kinds of pushback clients raise."""
    techniques: tuple[Technique, ...] = ()
    """How managers answer an objection."""
    forbidden: tuple[ForbiddenPhrase, ...] = ()
    """What a manager must never say."""
    scoring: Scoring = Field(default_factory=Scoring)
    """Points taken off a call's score of 100; every key has a default."""

    @field_validator("checkpoints", "objections", "techniques")
    @classmethod
    def _unique_ids(cls, items: tuple[Checkpoint | Objection | Technique, ...]) -> tuple:  # type: ignore[type-arg]
        repeated = [i for i, n in Counter(item.id for item in items).items() if n > 1]
        if repeated:
            raise ValueError(f"id {repeated[0]!r} is used more than once")
        return items
