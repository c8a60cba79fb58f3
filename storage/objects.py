"""Recordings in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2...): ``CALLQA_AUDIO_STORE=
s3://BUCKET/PREFIX``, for workers on several machines that share no folder.

The credentials, endpoint and region come from the standard AWS settings (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``~/.aws/config``...), as boto3 reads them. An upload over boto3's
threshold goes in parts, and a failed one is aborted. What a process reads is fetched, streamed,
into a file of its own folder under ``scratch`` (``DATA_DIR/fetched/PID``) and removed after;
the folders of processes that are gone (a killed worker) are removed when the store is opened.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from callqa.errors import CallqaError, InputError
from storage.files import private_folder

# An object read back in pieces of this size (the player's Range requests).
PIECE = 1 << 16


class StoreError(CallqaError):
    """The bucket could not be reached or refused: the request can be tried again later."""


class MissingError(InputError):
    """Nothing is kept at the key: trying again will not help."""


def is_bucket(url: str) -> bool:
    return url.startswith("s3://")


class BucketStore:
    """Files as objects under ``s3://BUCKET/PREFIX/KEY``."""

    def __init__(self, url: str, scratch: Path) -> None:
        # lazy: boto3 only where a bucket is used
        import boto3
        from botocore.config import Config

        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"audio store {url!r}: expected s3://BUCKET or s3://BUCKET/PREFIX")
        self.url, self.bucket = url, parsed.netloc
        self.prefix = parsed.path.strip("/")
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60)
        self.client: Any = boto3.client("s3", config=config)
        self.scratch = scratch
        _remove_left_by_the_dead(scratch)

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, source: Path, key: str) -> bool:
        if self.exists(key):
            return False
        with self._reaching(key):
            self.client.upload_file(str(source), self.bucket, self._name(key))
        return True

    def exists(self, key: str) -> bool:
        try:
            with self._reaching(key):
                self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except MissingError:
            return False
        return True

    @contextmanager
    def fetch(self, key: str) -> Iterator[Path]:
        handle, name = tempfile.mkstemp(dir=self.scratch_folder(), suffix=Path(key).suffix)
        os.close(handle)
        path = Path(name)
        try:
            self.download(key, path)
            yield path
        finally:
            path.unlink(missing_ok=True)

    def download(self, key: str, target: Path) -> None:
        """What is kept at ``key`` into the file ``target``, streamed."""
        with self._reaching(key):
            self.client.download_file(self.bucket, self._name(key), str(target))

    def keys(self) -> list[str]:
        """Every key under the prefix, in order."""
        start = f"{self.prefix}/" if self.prefix else ""
        with self._reaching(self.prefix or "/"):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start)
            return sorted(o["Key"].removeprefix(start) for page in pages for o in page.get("Contents", ()))

    def scratch_folder(self) -> Path:
        """This process's own folder for fetched files (``DATA_DIR/fetched/PID``)."""
        own = self.scratch / str(os.getpid())
        private_folder(own)
        return own

    def local(self, key: str) -> Path | None:
        return None

    def size(self, key: str) -> int:
        with self._reaching(key):
            return int(self.client.head_object(Bucket=self.bucket, Key=self._name(key))["ContentLength"])

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with self._reaching(key):  # asked now, so that a store that is down fails before the answer starts
            body = self.client.get_object(Bucket=self.bucket, Key=self._name(key), Range=f"bytes={start}-{end}")["Body"]
        return _pieces(body)

    def delete(self, key: str) -> None:
        """The object and the copies made from it (``KEY.*``); deleting what is not there is no error."""
        name = self._name(key)
        with self._reaching(key):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{name}.")
            copies = [o["Key"] for page in pages for o in page.get("Contents", ())]
            for each in [*copies, name]:
                self.client.delete_object(Bucket=self.bucket, Key=each)

    @contextmanager
    def _reaching(self, key: str) -> Iterator[None]:
        """botocore's errors as MissingError (nothing at the key) or StoreError, naming the store
        and the key."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise MissingError(f"audio store {self.url}: {key}: no such recording") from None
            raise StoreError(f"audio store {self.url}: {key}: {error}") from None
        except (BotoCoreError, Boto3Error) as error:
            raise StoreError(f"audio store {self.url}: {key}: {error}") from None


def _pieces(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(PIECE)
    finally:
        body.close()


def _remove_left_by_the_dead(scratch: Path) -> None:
    """The fetch folders of processes that no longer run (killed mid-call)."""
    if not scratch.is_dir():
        return
    for folder in scratch.iterdir():
        if folder.name.isdigit() and not _alive(int(folder.name)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
