"""Celery workers on Redis: each call is a chain of two tasks, transcribe then analyse (each stores).

    callqa worker --concurrency 2             # or: celery -A worker.tasks worker
    callqa batch DIR --queue                  # enqueue instead of processing in-process
    celery -A worker.tasks flower             # monitoring

Tasks take ids, never payloads. ``acks_late`` with ``reject_on_worker_lost``
means a call whose worker dies is delivered again (after Redis's visibility
timeout, ``CALLQA_VISIBILITY_TIMEOUT``), and since every step is idempotent
it is finished once. Bad input fails at once; database or broker hiccups are
retried with exponential backoff.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import time
from collections.abc import Iterator
from typing import Any

from celery import Celery, Task, chain
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery.signals import worker_process_init
from sqlalchemy.exc import OperationalError

from callqa.errors import InputError
from callqa.settings import Settings
from pipeline.batch import enqueue_folder
from pipeline.context import Context, Dispatch, JobKind
from pipeline.jobs import fail_job, job_state
from pipeline.process import analyse_call, hear_as_two, transcribe_call
from pipeline.redaction import redact_failed
from pipeline.retention import purge
from pipeline.scripts import register_script
from storage.objects import StoreError

# Retried with backoff. Bad input (InputError, AudioError) is not among them: it fails the job at once.
TRANSIENT = (OperationalError, ConnectionError, TimeoutError, StoreError)


def make_app(settings: Settings) -> Celery:
    app = Celery("callqa", broker=settings.redis_url, backend=settings.redis_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds one call at a time
        task_time_limit=settings.task_time_limit,
        task_soft_time_limit=settings.task_time_limit * 0.9,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            # Sweep for the calls of dead workers every few seconds, not kombu's default ~100 s.
            "unacked_restore_interval": max(1.0, min(10.0, settings.visibility_timeout / 4)),
            "unacked_restore_throttle": 1,
        },
        result_backend_transport_options={"visibility_timeout": settings.visibility_timeout},
        broker_connection_retry_on_startup=True,
        result_expires=7 * 24 * 3600,
        task_serializer="json",
        # Events, so Flower (and `celery events`) see every task as it is sent, started and done.
        worker_send_task_events=True,
        task_send_sent_event=True,
        accept_content=["json"],
        beat_schedule=_schedule(settings),
    )
    return app


def _schedule(settings: Settings) -> dict[str, Any]:
    """What beat runs: the incoming folder's scan, and the daily retention purge, when set."""
    schedule = {}
    if settings.incoming_dir:
        schedule["scan-incoming"] = {"task": "callqa.scan_incoming", "schedule": settings.scan_interval}
    if settings.purges:
        schedule["purge"] = {"task": "callqa.purge", "schedule": 24 * 3600.0}
    return schedule


# The worker's entry point (``celery -A worker.tasks``) needs the app at import: settings are read here.
app = make_app(Settings.from_env())
_context: Context | None = None


def context() -> Context:
    """This worker process's Context: database, file store, settings; the model loads on first use."""
    global _context
    if _context is None:
        settings = Settings.from_env()
        if not settings.threads:
            # One thread per worker process: run as many processes as cores (--concurrency).
            settings = dataclasses.replace(settings, threads=1)
        _context = Context.from_settings(settings)
    return _context


@worker_process_init.connect
def _fresh_context(**_: Any) -> None:
    global _context
    _context = None  # database connections are not shared across fork


class CallStep(Task):  # type: ignore[misc]
    """One step of a call's chain. Whatever ends it with an error, even a time limit that struck
    before the step's own handling began, or the hard limit killing the process (Celery then calls
    ``on_failure`` in the worker's main process), the job fails with the reason instead of staying
    queued or running for ever. With redaction on, a call whose analysis failed is redacted all the
    same (its transcript is stored by then)."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        job_id = kwargs.get("job_id", args[2] if len(args) > 2 else None)
        if job_id is not None:
            reason = _over_the_limit() if _timed_out(exc) else str(exc) or type(exc).__name__
            fail_job(context(), job_id, reason)
        call_id = kwargs.get("call_id", args[0] if args else None)
        if call_id is not None:
            redact_failed(context(), call_id)


@app.task(name="callqa.transcribe", bind=True, base=CallStep, autoretry_for=TRANSIENT, retry_backoff=True,
          retry_backoff_max=300, max_retries=5)  # fmt: skip
def transcribe_task(self: Any, call_id: int, script_id: int, job_id: int | None = None) -> int:
    with job_state(context(), job_id, finish=False), _time_limit():
        transcribe_call(context(), call_id, script_id)
    return call_id


@app.task(name="callqa.analyse", bind=True, base=CallStep, autoretry_for=TRANSIENT, retry_backoff=True,
          retry_backoff_max=300, max_retries=5)  # fmt: skip
def analyse_task(self: Any, call_id: int, script_id: int, job_id: int | None = None) -> float:
    with job_state(context(), job_id, first=False), _time_limit():
        return analyse_call(context(), call_id, script_id)


@app.task(name="callqa.two_voices", bind=True, base=CallStep, autoretry_for=TRANSIENT, retry_backoff=True,
          retry_backoff_max=300, max_retries=5)  # fmt: skip
def two_voices_task(self: Any, call_id: int, script_id: int, job_id: int | None = None) -> float:
    """A call heard as one voice, heard again as two (``pipeline.process.hear_as_two``)."""
    with _time_limit():
        return hear_as_two(context(), call_id, script_id, job_id)


@contextlib.contextmanager
def _time_limit() -> Iterator[None]:
    """The soft time limit as a plain reason on the job, not retried."""
    try:
        yield
    except Exception as error:
        if _timed_out(error):
            raise InputError(_over_the_limit()) from None
        raise


def _timed_out(error: BaseException) -> bool:
    """Whether ``error`` is the time limit, or was raised while handling it: the soft limit strikes
    wherever the task is, and a library that catches everything re-raises it as its own error
    (srsly's YAML reader, run while spaCy is first imported, gives "Invalid YAML: ...")."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, (TimeLimitExceeded, SoftTimeLimitExceeded)):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _over_the_limit() -> str:
    limit = app.conf.task_time_limit
    return f"took longer than the time limit of {limit:g} s (CALLQA_TASK_TIME_LIMIT)"


@app.task(name="callqa.scan_incoming")
def scan_incoming() -> int:
    """Enqueue the recordings in the incoming folder that are not stored yet; how many."""
    ctx = context()
    folder, script = ctx.settings.incoming_dir, ctx.settings.script
    if not folder or not script:
        return 0

    return len(enqueue_folder(ctx, folder, register_script(ctx.sessions, script), dispatch).queued)


@app.task(name="callqa.purge")
def purge_task() -> dict[str, list[int]]:
    """Delete what retention says has expired (logged in the access log); the call ids per kind."""
    return dataclasses.asdict(purge(context()))


def dispatch(call_id: int, script_id: int, job_id: int, kind: JobKind = "process", celery: Celery = app) -> None:
    """Send one call through the chain: transcribe, then analyse (ids only); or, for a job of
    kind ``two_voices``, to ``two_voices_task``.

    The time limit is the worker's own (CALLQA_TASK_TIME_LIMIT where the worker runs): Celery
    otherwise writes the sender's into the message, and a call queued by ``callqa batch --queue``
    or the API, whose settings have the default hour, ran its transcription under that."""
    ids = (call_id, script_id, job_id)
    no_limit = {"time_limit": None, "soft_time_limit": None}
    if kind == "two_voices":
        celery.signature("callqa.two_voices", ids, immutable=True, **no_limit).apply_async()
        return
    chain(
        celery.signature("callqa.transcribe", ids, immutable=True, **no_limit),
        celery.signature("callqa.analyse", ids, immutable=True, **no_limit),
    ).apply_async()


_answers: dict[str, tuple[float, bool]] = {}  # broker URL -> (when asked, did a worker answer)


def queue_for(settings: Settings, ttl: float = 30.0) -> Dispatch | None:
    """Dispatch to the workers on ``settings.redis_url`` when one answers a ping, else None.

    The answer is remembered for ``ttl`` seconds, so an upload does not wait for a ping each time.
    """
    asked, alive = _answers.get(settings.redis_url, (-ttl, False))
    celery = app if settings.redis_url == app.conf.broker_url else make_app(settings)
    if time.monotonic() - asked >= ttl:
        try:
            alive = bool(celery.control.ping(timeout=1.0))
        except Exception:  # noqa: BLE001 - no broker at all is the same as no workers
            alive = False
        _answers[settings.redis_url] = (time.monotonic(), alive)
    return functools.partial(dispatch, celery=celery) if alive else None


def run_worker(concurrency: int, beat: bool, loglevel: str = "info") -> None:
    argv = ["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}", "--pool=prefork",
            f"--hostname=callqa-{os.getpid()}@%h"]  # fmt: skip
    if beat:
        argv.append("--beat")
    app.worker_main(argv)
