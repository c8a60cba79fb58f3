"""The CallReport: what the analysis says about one call. The contract for storage, API and UI.

Times are seconds from the start of the recording. ``CallReport.model_dump_json()``
is the JSON form; ``CallReport.model_validate_json`` reads it back.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Outcome = Literal["moved_on", "repeated", "ended"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Evidence(_Model):
    """A sentence that showed a checkpoint, objection or technique, and what matched in it."""

    start: float
    end: float
    speaker: str
    text: str
    matched: str  # the pack's example phrase or pattern
    method: str  # lemmas, pattern, fuzzy, phonetic or similar
    confidence: float


class CheckpointResult(_Model):
    id: str
    title: str
    required: bool
    weight: float
    passed: bool
    confidence: float  # of the best evidence; for a missed checkpoint, of the nearest miss (0: none near)
    # Why it was not where the script expects it (time window, order among the stages); None: in place.
    misplaced: str | None
    evidence: tuple[Evidence, ...]
    # The confidence lies near the cut-off (``analysis.meaning.UNSURE``): a verdict to hear.
    unsure: bool = False
    # For a missed checkpoint that was unsure: the sentence that came nearest to it.
    nearest: Evidence | None = None


class Response(_Model):
    start: float
    end: float
    text: str


class ObjectionResult(_Model):
    type: str
    title: str
    start: float
    end: float
    text: str
    confidence: float
    handled: bool
    techniques: tuple[str, ...]
    response: Response | None
    outcome: Outcome  # after the manager's answer: the client moved on, repeated it, or the call ended
    unsure: bool = False  # the confidence lies near the cut-off: a verdict to hear


class ForbiddenHit(_Model):
    phrase: str
    severity: str
    start: float
    end: float
    text: str


class Mistake(_Model):
    code: str  # stable: missed_checkpoint:greeting, unhandled_objection:price, forbidden_phrase, ...
    start: float
    message: str
    advice: str
    points: float  # taken off the score for it

    @property
    def key(self) -> str:
        """What a reviewer's verdict on this mistake names: ``interrupted_client@12.5``."""
        return mistake_key(self.code, self.start)


def mistake_key(code: str, start: float) -> str:
    return f"{code}@{start:.1f}"


class StageScore(_Model):
    id: str
    title: str
    score: float  # 0..100


class Metrics(_Model):
    duration: float
    manager_talk_seconds: float
    client_talk_seconds: float
    manager_talk_share: float  # of all speech
    longest_monologue: float  # seconds the manager spoke without the client saying a word
    longest_monologue_start: float
    interruptions_by_manager: int  # the manager started talking over the client
    interruptions_by_client: int
    overlap_seconds: float
    silences: int  # pauses of nobody speaking of at least SILENCE seconds
    longest_silence: float
    manager_words_per_minute: float
    questions_open: int
    questions_closed: int
    # Of the manager's statements, the share about "we / our product" rather than the client.
    pitch_share: float
    filler_words: int
    fillers_per_minute: float
    objection_seconds: float  # time the client stayed stuck in objections
    # The client named, or said yes to, a day or time after the manager proposed a step; None: the
    # script has no step with a day and time, or the manager proposed none.
    next_step_agreed: bool | None = None
    manager_level_dbfs: float | None  # speech loudness, when the audio was analysed
    client_level_dbfs: float | None


class ScriptRef(_Model):
    id: str
    version: int
    title: str


class CallReport(_Model):
    script: ScriptRef
    score: float  # 0..100
    stages: tuple[StageScore, ...]
    checkpoints: tuple[CheckpointResult, ...]
    objections: tuple[ObjectionResult, ...]
    # Per objection type not raised, the client's sentence that came near it (not counted in
    # the score until a reviewer says it was raised: ``raised:TYPE``).
    possible_objections: tuple[ObjectionResult, ...] = ()
    forbidden: tuple[ForbiddenHit, ...]
    metrics: Metrics
    mistakes: tuple[Mistake, ...]
    transcript: dict[str, Any]
    # What limited this analysis, such as matching by wording only (the pack's language).
    warnings: tuple[str, ...] = ()
    # The recording was heard as one voice (a voicemail, a monologue): every word the manager's.
    one_voice: bool = False
    # The words may not be what was said: the recogniser looped, or the speech did not sound like
    # the script's language. The warnings say which; the call stays out of the numbers.
    unreliable: bool = False

    def checkpoint(self, id: str) -> CheckpointResult:
        return next(c for c in self.checkpoints if c.id == id)
