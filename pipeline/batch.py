"""The batch runner: every recording under a folder (or a bucket's prefix), stored, transcribed,
analysed; reruns skip what is done."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from callqa.errors import InputError
from pipeline.context import Context, Dispatch
from pipeline.metadata import (
    LOGS,
    CallInfo,
    MetadataError,
    manager_from_name,
    read_call_log,
    read_sidecar,
)
from pipeline.process import TOGETHER, ingest, process_calls
from storage import content_hash
from storage.models import Call, Job, Report
from storage.objects import BucketStore, is_bucket
from transcribe.audio import SUFFIXES as AUDIO


@dataclass
class Summary:
    done: list[tuple[str, float]] = field(default_factory=list)  # (recording, score)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (recording, reason)
    queued: list[tuple[str, int]] = field(default_factory=list)  # (recording, job id)
    warnings: list[str] = field(default_factory=list)

    @property
    def average(self) -> float | None:
        return sum(s for _, s in self.done) / len(self.done) if self.done else None

    def worst(self, n: int = 5) -> list[tuple[str, float]]:
        return sorted(self.done, key=lambda d: d[1])[:n]


def find_recordings(folder: Path, outside: list[Path] | None = None) -> Iterator[Path]:
    """Recordings under ``folder``, subfolders included, in name order.

    Links are followed only while they stay inside ``folder`` (those that lead out are added to
    ``outside``, so that they can be named); hidden files are skipped.
    """
    root = folder.resolve()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if not _recording_name(name):
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                if outside is not None:
                    outside.append(path)
                continue
            yield path


def _recording_name(name: str) -> bool:
    """Whether a file of this name is taken for a recording: not hidden, a recording's suffix."""
    return not name.startswith(".") and PurePosixPath(name).suffix.lower() in AUDIO


@dataclass(frozen=True)
class Inbox:
    """Where a batch's recordings come from: a folder, or a prefix of a bucket (s3://BUCKET/PREFIX)."""

    name: str  # as given
    recordings: tuple[str, ...]  # relative to it, in order
    warnings: tuple[str, ...]  # links not followed
    open: Callable[[str], AbstractContextManager[Path]]  # a recording as a local file, its sidecar beside
    log: Callable[[], tuple[dict[str, CallInfo], list[str]]]  # the call log's rows, and its problems


def inbox(where: str | Path, scratch: Path) -> Inbox:
    """The recordings of a folder, or of ``s3://BUCKET/PREFIX`` (fetched one at a time into
    ``scratch``); InputError when there is no such folder."""
    if is_bucket(str(where)):
        return _bucket_inbox(str(where), scratch)
    folder = Path(where)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    outside: list[Path] = []
    found = tuple(p.relative_to(folder).as_posix() for p in find_recordings(folder, outside))
    return Inbox(str(folder), found, tuple(links_out(folder, outside)),
                 lambda relative: nullcontext(folder / relative), lambda: read_call_log(folder))  # fmt: skip


def _bucket_inbox(url: str, scratch: Path) -> Inbox:
    store = BucketStore(url, scratch)
    keys = store.keys()
    present = set(keys)
    # As in a folder: recordings by their names, none under a hidden folder.
    found = tuple(k for k in keys if _recording_name(PurePosixPath(k).name)
                  and not any(part.startswith(".") for part in PurePosixPath(k).parent.parts))  # fmt: skip

    @contextmanager
    def fetched(relative: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(dir=store.scratch_folder()) as tmp:
            path = Path(tmp) / PurePosixPath(relative).name
            store.download(relative, path)
            sidecar = str(PurePosixPath(relative).with_suffix(".json"))
            if sidecar in present:
                store.download(sidecar, path.with_suffix(".json"))
            yield path

    def log() -> tuple[dict[str, CallInfo], list[str]]:
        with tempfile.TemporaryDirectory(dir=store.scratch_folder()) as tmp:
            for name in LOGS:
                if name in present:
                    store.download(name, Path(tmp) / name)
            rows, problems = read_call_log(Path(tmp))
            return rows, [p.replace(tmp, url) for p in problems]

    return Inbox(url, found, (), fetched, log)


def run_batch(
    ctx: Context,
    folder: Path | Inbox,
    script_id: int,
    progress: Callable[[str], None] = lambda name: None,
    together: int = TOGETHER,
) -> Summary:
    """Process every recording under ``folder`` in this process; one bad recording never stops the
    rest. Recordings go through in handfuls of ``together``, their speech recognised side by side
    (each with the very words it gets alone: ``transcribe.transcribe_files``)."""
    waiting: list[tuple[int, int, str]] = []  # (call, job, recording) stored, not yet processed

    def work(call_id: int, job_id: int, relative: str, summary: Summary) -> None:
        waiting.append((call_id, job_id, relative))
        if len(waiting) >= together:
            process(summary)

    def process(summary: Summary) -> None:
        scores = process_calls(ctx, [(call_id, job_id) for call_id, job_id, _ in waiting], script_id)
        for (_, _, relative), score in zip(waiting, scores, strict=True):
            if isinstance(score, Exception):
                summary.failed.append((relative, _reason(score, relative)))
            else:
                summary.done.append((relative, score))
        waiting.clear()

    summary = _each(ctx, folder, script_id, work, progress, skip_queued=False)
    process(summary)
    return summary


def enqueue_folder(
    ctx: Context,
    folder: Path | Inbox,
    script_id: int,
    dispatch: Dispatch,
    progress: Callable[[str], None] = lambda name: None,
) -> Summary:
    """Store every new recording under ``folder`` and hand each to ``dispatch(call, script, job)``."""

    def work(call_id: int, job_id: int, relative: str, summary: Summary) -> None:
        dispatch(call_id, script_id, job_id)
        summary.queued.append((relative, job_id))

    return _each(ctx, folder, script_id, work, progress, skip_queued=True)


def _each(
    ctx: Context,
    folder: Path | Inbox,
    script_id: int,
    work: Callable[[int, int, str, Summary], None],
    progress: Callable[[str], None],
    skip_queued: bool,
) -> Summary:
    source = folder if isinstance(folder, Inbox) else inbox(folder, ctx.settings.data_dir / "fetched")
    log, problems = source.log()
    summary = Summary(warnings=problems)
    for relative in source.recordings:
        progress(relative)
        path = Path(relative)
        try:
            with source.open(relative) as path:
                # A fetched sidecar is named where it was fetched from; a folder's by its path.
                fetched = f"{source.name.rstrip('/')}/{PurePosixPath(relative).with_suffix('.json')}"
                info = _info(ctx, path, relative, fetched if is_bucket(source.name) else None, log, summary)
                digest = content_hash(path)
                if _already_done(ctx, digest, script_id, skip_queued):
                    summary.skipped.append(relative)
                    continue
                call_id, _ = ingest(ctx, path, relative, info, digest)
            work(call_id, _new_job(ctx, call_id, relative, script_id), relative, summary)
        except Exception as error:  # noqa: BLE001 - recorded in its job; the batch goes on
            summary.failed.append((relative, _reason(error, relative, path)))
    summary.warnings += [f"{link}: not followed" for link in source.warnings]
    return summary


def links_out(folder: Path, links: list[Path]) -> list[str]:
    """Each link that leads outside ``folder``, named as "NAME: a link to TARGET, outside the folder"."""
    return [f"{p.relative_to(folder).as_posix()}: a link to {os.readlink(p)}, outside the folder" for p in links]


def _reason(error: Exception, relative: str, path: Path | None = None) -> str:
    """Why a recording failed, for the summary, named by its place in the folder."""
    reason = str(error) if isinstance(error, InputError | OSError) else f"{type(error).__name__}: {error}"
    if path is not None:
        reason = reason.replace(str(path), relative)
    return reason.removeprefix(f"{relative}: ")


def _info(
    ctx: Context, path: Path, relative: str, sidecar: str | None, log: dict[str, CallInfo], summary: Summary
) -> CallInfo:
    info = log.get(relative)
    try:
        info = read_sidecar(path, sidecar) or info
    except MetadataError as error:
        summary.warnings.append(str(error))
    info = info or CallInfo()
    if info.manager is None:
        manager = manager_from_name(relative, ctx.settings.manager_pattern)
        try:
            info = replace(info, manager=manager) if manager else info
        except MetadataError as error:
            summary.warnings.append(f"{relative}: {error}")
    return info


def _already_done(ctx: Context, digest: str, script_id: int, queued: bool) -> bool:
    """Analysed with this script version already (or, with ``queued``, waiting in the queue for it)."""
    with ctx.sessions() as db:
        report = (
            select(Report.id)
            .join(Call, Call.id == Report.call_id)
            .where(Call.content_hash == digest, Report.script_id == script_id)
        )
        pending = (
            select(Job.id)
            .join(Call)
            .where(
                Call.content_hash == digest,
                Job.script_id == script_id,
                Job.state.in_(("queued", "running")),
            )
        )
        return db.scalar(report) is not None or (queued and db.scalar(pending) is not None)


def _new_job(ctx: Context, call_id: int, source: str, script_id: int) -> int:
    with ctx.sessions.begin() as db:
        job = Job(call_id=call_id, kind="process", source=source, script_id=script_id)
        db.add(job)
        db.flush()
        return job.id
