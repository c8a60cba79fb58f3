"""What a process that works on calls sets up once: the database, the file store, the settings and
the Whisper engines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from callqa.settings import Settings
from storage import DirectoryStore, FileStore, connect
from transcribe.recognisers import Recognisers

# Hands a stored call to the workers: (call id, script id, job id).
Dispatch = Callable[[int, int, int], None]


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
        sessions, store = connect(settings.database), DirectoryStore(settings.data_dir)
        return cls(sessions, store, settings, queue or _no_workers)

    def recognisers(self) -> Recognisers:
        """The Whisper engines (each model loaded on first use) and the mono diarizer."""
        if self._recognisers is None:
            self._recognisers = Recognisers.from_settings(self.settings)
        return self._recognisers
