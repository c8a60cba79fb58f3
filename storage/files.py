"""Where recordings are kept: a folder (``DirectoryStore``) or an S3-compatible bucket
(``storage.objects.BucketStore``), behind the same calls."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol


class FileStore(Protocol):
    def put(self, source: Path, key: str) -> bool:
        """Keep a copy of ``source`` at ``key``; False when one was there already."""
    def exists(self, key: str) -> bool: ...
    def fetch(self, key: str) -> AbstractContextManager[Path]:
        """A local file holding what is kept at ``key``, to read while the context lasts (a
        temporary copy, removed after, where the store is not a folder)."""
    def local(self, key: str) -> Path | None:
        """The file itself where the store is a folder, to be served as it is; else None."""
    def size(self, key: str) -> int: ...
    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (inclusive) of what is kept at ``key``, in pieces."""
    def delete(self, key: str) -> None:
        """Delete the file at ``key`` and the copies made from it (``KEY.*``, e.g. KEY.play.wav)."""
    def __hash__(self) -> int: ...  # a store is a key of caches (by identity)


class DirectoryStore:
    """Files under ``root``, by key (``audio/ab/abcdef....wav``); written atomically, readable by
    this user alone (folders 0700, files 0600): recordings hold personal data."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, source: Path, key: str) -> bool:
        target = self.open_path(key)
        if target.exists():
            return False
        private_folder(target.parent)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        shutil.copyfile(source, partial)
        partial.chmod(0o600)
        partial.replace(target)
        return True

    def open_path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"file key {key!r} leaves the store")
        return path

    def exists(self, key: str) -> bool:
        return self.open_path(key).exists()

    @contextmanager
    def fetch(self, key: str) -> Iterator[Path]:
        yield self.open_path(key)

    def local(self, key: str) -> Path | None:
        return self.open_path(key)

    def size(self, key: str) -> int:
        return self.open_path(key).stat().st_size

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with self.open_path(key).open("rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0 and (piece := f.read(min(left, 1 << 16))):
                left -= len(piece)
                yield piece

    def delete(self, key: str) -> None:
        path = self.open_path(key)
        for copy in path.parent.glob(f"{glob.escape(path.name)}.*"):
            copy.unlink(missing_ok=True)
        path.unlink(missing_ok=True)


def private_folder(path: Path) -> None:
    """``path`` and the folders made for it, for this user alone (0700); an existing folder
    keeps its mode, so an administrator may open the data folder to a group on purpose."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is masked by the umask


def content_hash(path: Path) -> str:
    """sha256 of a file, read in 1 MB pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while piece := f.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


def audio_key(digest: str, suffix: str) -> str:
    return f"audio/{digest[:2]}/{digest}{suffix.lower()}"
