"""What a process that works on calls sets up once: the database, the file store, the settings and
the Whisper engines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy.orm import Session, sessionmaker

from callqa.settings import Settings
from storage import DirectoryStore, FileStore, connect
from storage.objects import BucketStore
from transcribe.recognisers import Recognisers

# What a job does with its call: transcribe (unless done) and analyse it; or, for a call heard
# as one voice, transcribe it again as two and analyse it again (``pipeline.process.hear_as_two``).
JobKind = Literal["process", "two_voices"]


class Dispatch(Protocol):
    """Hands a stored call's job to the workers."""

    def __call__(self, call_id: int, script_id: int, job_id: int, kind: JobKind = "process") -> None: ...


def _no_workers() -> Dispatch | None:
    return None


@dataclass
class Context:
    """What a process sets up once: the database, the file store, the settings, the engines."""

    sessions: sessionmaker[Session]
    store: FileStore
    settings: Settings
    # The workers' queue when one answers, else None (the call is processed in this process).
    # The edge that runs workers sets it (``callqa serve``: ``worker.tasks.queue_for``).
    queue: Callable[[], Dispatch | None] = _no_workers
    _recognisers: Recognisers | None = None  # each model loaded on first need

    @classmethod
    def from_settings(
        cls, settings: Settings, queue: Callable[[], Dispatch | None] | None = None
    ) -> Context:
        """Open the configured database (migrated) and file store."""
        sessions = connect(settings.database)
        store: FileStore = (
            BucketStore(settings.audio_store, settings.data_dir / "fetched") if settings.audio_store
            else DirectoryStore(settings.data_dir)
        )  # fmt: skip
        return cls(sessions, store, settings, queue or _no_workers)

    def recognisers(self) -> Recognisers:
        """The Whisper engines (each model loaded on first use) and the mono diarizer."""
        if self._recognisers is None:
            self._recognisers = Recognisers.from_settings(self.settings)
        return self._recognisers
