"""A sales script pack: the checklist a trainer writes in YAML, as typed, immutable models.

Unknown keys are refused (a typo must not silently switch a checkpoint off),
and every list of ids must be unique.
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
Id = Field(pattern=ID_PATTERN, description="lower_snake_case identifier")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Checkpoint(_Model):
    """One thing the script expects to be said, such as the greeting or an agreed next step."""

    id: str = Id
    title: str
    speaker: Speaker = "manager"
    # Example phrases, matched fuzzily and by similarity (ASR makes mistakes).
    phrases: tuple[str, ...] = ()
    # Patterns over lemmas, e.g. "call * back" or "меня зовут".
    patterns: tuple[str, ...] = ()
    required: bool = True
    weight: float = Field(default=1.0, ge=0)
    # Expected position among the stages (1 = first); None: anywhere.
    order: int | None = Field(default=None, ge=1)
    # Expected in the first / last this many seconds of the call.
    within_first: float | None = Field(default=None, gt=0)
    within_last: float | None = Field(default=None, gt=0)
    # Shown to the manager when the checkpoint is missed.
    advice: str

    @model_validator(mode="after")
    def _has_something_to_match(self) -> Checkpoint:
        if not self.phrases and not self.patterns:
            raise ValueError("a checkpoint needs at least one of phrases or patterns")
        return self


class Objection(_Model):
    """A kind of objection clients raise, such as price or "call me later"."""

    id: str = Id
    title: str
    phrases: tuple[str, ...] = Field(min_length=1)
    # Answers that worked in this team's calls (``callqa mine`` proposes them), shown as advice.
    responses: tuple[str, ...] = ()


class Technique(_Model):
    """A way of handling objections, such as acknowledging or asking a clarifying question."""

    id: str = Id
    title: str
    phrases: tuple[str, ...] = ()
    # Any question the manager asks in answer to an objection counts as this technique.
    questions: bool = False

    @model_validator(mode="after")
    def _has_something_to_match(self) -> Technique:
        if not self.phrases and not self.questions:
            raise ValueError("a technique needs phrases, or questions: true")
        return self


class ForbiddenPhrase(_Model):
    phrase: str = Field(min_length=1)
    severity: Severity = "medium"
    advice: str = "Never say this to a client: it reads as not caring. Learn a better answer for the moment."


def _default_penalties() -> dict[Severity, float]:
    return {"low": 2.0, "medium": 5.0, "high": 10.0}


class Scoring(_Model):
    """Points taken off a call's score of 100, besides the weighted checkpoints."""

    # Share of the score that the weighted checkpoints make up (the rest: objections).
    checkpoints_share: float = Field(default=0.8, ge=0, le=1)
    forbidden_penalty: dict[Severity, float] = Field(default_factory=_default_penalties)
    # Points off for a mistimed or out-of-order checkpoint.
    misplaced_penalty: float = Field(default=3.0, ge=0)
    # Points off each time the manager talks over the client (counted up to three times).
    interruption_penalty: float = Field(default=2.0, ge=0)
    # A manager monologue longer than this many seconds costs monologue_penalty points.
    max_monologue: float = Field(default=60.0, gt=0)
    monologue_penalty: float = Field(default=3.0, ge=0)
    # Silence of nobody speaking longer than this many seconds costs dead_air_penalty points.
    max_silence: float = Field(default=8.0, gt=0)
    dead_air_penalty: float = Field(default=2.0, ge=0)
    # The manager's voice more than this many dB quieter than the client's costs quiet_penalty.
    quiet_db: float = Field(default=10.0, gt=0)
    quiet_penalty: float = Field(default=3.0, ge=0)
    # A step with a day and time proposed (a checkpoint whose examples name one) that the client
    # never agreed to costs unagreed_penalty points: the call ended without a commitment.
    unagreed_penalty: float = Field(default=10.0, ge=0)
    # The advice shown with these mistakes, in the pack's language (defaults are English).
    advice: dict[BehaviourCode, str] = Field(default_factory=dict)


class ScriptPack(_Model):
    id: str = Id
    version: int = Field(default=1, ge=1, le=2**31 - 1)  # what a database integer holds
    title: str
    language: Literal["en", "ru"]
    # Names the recogniser should expect: products, the company.
    product_terms: tuple[str, ...] = ()
    checkpoints: tuple[Checkpoint, ...] = Field(min_length=1)
    objections: tuple[Objection, ...] = ()
    techniques: tuple[Technique, ...] = ()
    forbidden: tuple[ForbiddenPhrase, ...] = ()
    scoring: Scoring = Field(default_factory=Scoring)

    @field_validator("checkpoints", "objections", "techniques")
    @classmethod
    def _unique_ids(cls, items: tuple[Checkpoint | Objection | Technique, ...]) -> tuple:  # type: ignore[type-arg]
        repeated = [i for i, n in Counter(item.id for item in items).items() if n > 1]
        if repeated:
            raise ValueError(f"id {repeated[0]!r} is used more than once")
        return items
