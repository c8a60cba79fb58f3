"""The exceptions callqa raises on purpose.

Every error a user can cause or fix derives from ``CallqaError``; the command
line prints it as one line and the API maps it to an HTTP status in one place.

    CallqaError
    ├── InputError            bad input: retrying will not help
    │   ├── AudioError        a recording that cannot be used (names the file)
    │   └── TooLarge          over a size limit (names the limit)
    └── ModelError            a Whisper model that cannot be found or loaded
"""

from __future__ import annotations


class CallqaError(Exception):
    """Base class of all errors callqa raises on purpose."""


class InputError(CallqaError):
    """The input is wrong; the same input will fail again."""


class AudioError(InputError):
    """A recording that cannot be decoded or transcribed.

    ``str(error)`` reads ``"<file>: <reason>"``.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class TooLarge(InputError):
    """Input over a size limit; the message names the limit. The API answers 413."""


class ModelError(CallqaError):
    """A model that is missing, would need a download, or does not fit the engine."""
