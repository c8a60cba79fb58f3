"""The Transcript: who said what and when. The contract between transcription and analysis.

All times are seconds from the start of the recording. The JSON form is
``{"utterances": [{"speaker", "channel", "start", "end", "text", "words": [...]}],
"language", "duration", "engine", "model", "role_confidence", "role_method", "source"}``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

from callqa.errors import InputError

Role = Literal["manager", "client"]
ROLES: tuple[Role, Role] = ("manager", "client")
# How roles were assigned: by the stereo channel, by diarizing a mono
# recording, or not at all (one voice heard; it is taken as the manager's).
RoleMethod = Literal["channel", "diarization", "single-speaker"]


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Utterance:
    speaker: Role
    channel: int  # 0 = left or mono, 1 = right
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Overlap:
    """A stretch where both sides speak at once; ``by`` is who started talking over the other."""

    start: float
    end: float
    by: Role


@dataclass(frozen=True)
class Transcript:
    utterances: tuple[Utterance, ...]
    language: str
    duration: float
    engine: str
    model: str
    role_confidence: float  # 0..1: how sure the manager/client assignment is
    role_method: RoleMethod
    source: str | None = None  # the recording's path or name, when known
    # The language the speech sounded like to Whisper where it differs from ``language`` and
    # Whisper was unsure of it: the call was heard in the expected language all the same.
    sounded_like: str | None = None

    def overlaps(self, min_seconds: float = 0.2) -> tuple[Overlap, ...]:
        """Stretches of simultaneous speech of at least ``min_seconds``, in time order."""
        found: list[Overlap] = []
        ordered = sorted(self.utterances, key=lambda u: u.start)
        for i, first in enumerate(ordered):
            for second in ordered[i + 1 :]:
                if second.start >= first.end:
                    break
                if second.speaker == first.speaker:
                    continue
                end = min(first.end, second.end)
                if end - second.start >= min_seconds:
                    found.append(Overlap(second.start, end, second.speaker))
        return tuple(found)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        """Build a Transcript from its JSON form; InputError names a missing or bad field."""
        try:
            return cls._from_dict(data)
        except KeyError as error:
            raise InputError(f"transcript: missing field {error}") from None
        except (TypeError, ValueError) as error:
            raise InputError(f"transcript: invalid value ({error})") from None

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Transcript:
        if data.get("role_method", "channel") not in ("channel", "diarization", "single-speaker"):
            raise ValueError(f"role_method {data['role_method']!r}")
        for u in data["utterances"]:
            if u["speaker"] not in ROLES:
                raise ValueError(f"speaker {u['speaker']!r} is neither 'manager' nor 'client'")
        utterances = tuple(
            Utterance(
                speaker=u["speaker"],
                channel=int(u.get("channel", 0)),
                start=float(u["start"]),
                end=float(u["end"]),
                text=u["text"],
                words=tuple(Word(**w) for w in u.get("words", ())),
            )
            for u in data["utterances"]
        )
        return cls(
            utterances=utterances,
            language=data["language"],
            duration=float(data["duration"]),
            engine=data["engine"],
            model=data["model"],
            role_confidence=float(data.get("role_confidence", 1.0)),
            role_method=data.get("role_method", "channel"),
            source=data.get("source"),
            sounded_like=data.get("sounded_like"),
        )

    @classmethod
    def from_json(cls, text: str) -> Transcript:
        return cls.from_dict(json.loads(text))
