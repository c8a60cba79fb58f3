"""``callqa batch`` and ``callqa calls``: process a folder of recordings, and see what was stored."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime

import click
import redis

from callqa.errors import CallqaError
from callqa.settings import Settings
from cli.console import fail as _fail
from pipeline.batch import Summary, enqueue_folder, inbox, run_batch
from pipeline.context import Context
from pipeline.process import rescore_all
from pipeline.scripts import resolve_script
from storage import connect
from storage.calls import CallQuery, last_jobs, search_calls
from storage.jobs import jobs_by_id, score_of
from worker.tasks import dispatch, run_worker


@click.command()
@click.argument("folder")
@click.option(
    "--script",
    "script_name",
    help="Script pack id or YAML file, or ID@VERSION for a stored version [default: CALLQA_SCRIPT].",
)
@click.option(
    "--queue", is_flag=True, help="Hand the calls to Celery workers (CALLQA_REDIS_URL) instead."
)
@click.option("--no-wait", is_flag=True, help="With --queue: return once queued, without waiting.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def batch(folder: str, script_name: str | None, queue: bool, no_wait: bool, as_json: bool) -> None:
    """Process every recording under FOLDER (subfolders too), or under a bucket's prefix
    (s3://BUCKET/PREFIX, with the AWS settings): store, transcribe, analyse.

    A rerun skips recordings already analysed with this script version (same content).

    \b
    callqa batch /recordings/2026-11-27 --script b2b_outbound
    callqa batch s3://call-recordings/2026-11-27 --script b2b_outbound --queue
    """
    settings = Settings.from_env()
    name = script_name or settings.script
    if not name:
        raise click.UsageError("which script? pass --script or set CALLQA_SCRIPT")
    source = inbox(folder, settings.data_dir / "fetched")
    total = len(source.recordings)
    if total == 0:  # before anything is made: a mistyped folder leaves no database behind
        why = "; ".join(source.warnings)
        _fail(f"{folder}: no recordings found" + (f" (links are followed only inside it: {why})" if why else ""))
        sys.exit(1)
    ctx = Context.from_settings(settings)
    script_id = resolve_script(ctx.sessions, name)
    if queue:
        _check_redis(settings.redis_url)
    with click.progressbar(length=total, label="calls", file=sys.stderr, show_pos=True,
                           item_show_func=lambda n: n) as bar:  # fmt: skip
        seen: list[str] = []

        def step(name: str) -> None:
            if seen:
                bar.update(1)
            seen.append(name)
            bar.current_item = name
            bar.render_progress()

        if queue:
            summary = enqueue_folder(ctx, source, script_id, dispatch, progress=step)
        else:
            summary = run_batch(ctx, source, script_id, progress=step)
        bar.update(1)
    if queue and summary.queued and not no_wait:
        _wait(ctx, summary)
    if as_json:
        click.echo(json.dumps({
            "done": len(summary.done), "skipped": len(summary.skipped),
            "failed": [{"file": f, "reason": r} for f, r in summary.failed],
            "queued": len(summary.queued),
            "average_score": summary.average, "worst": [{"file": f, "score": s} for f, s in summary.worst()],
            "warnings": summary.warnings,
        }))  # fmt: skip
    else:
        click.echo(_summary_text(summary))
    if summary.failed:
        sys.exit(1)


def _check_redis(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        raise CallqaError(
            f"Redis at {url}: not reachable ({error}); start it, or run without --queue"
        ) from None


def _wait(ctx: Context, summary: Summary) -> None:
    """Wait for the workers to finish the queued calls, showing progress; fill in the summary."""
    pending = dict(summary.queued)  # recording -> job id
    with click.progressbar(
        length=len(pending), label="processed by workers", file=sys.stderr
    ) as bar:
        while pending:
            time.sleep(1)
            with ctx.sessions() as db:
                jobs = jobs_by_id(db, pending.values())
                for name, job_id in list(pending.items()):
                    job = jobs[job_id]
                    if job.state == "done":
                        summary.done.append((name, score_of(db, job)))
                    elif job.state == "failed":
                        summary.failed.append((name, job.error or "failed"))
                    else:
                        continue
                    del pending[name]
                    bar.update(1)
    summary.queued.clear()


def _summary_text(summary: Summary) -> str:
    lines = [(f"done {len(summary.done)}, skipped {len(summary.skipped)} (already analysed), "
             f"failed {len(summary.failed)}")]  # fmt: skip
    if summary.average is not None:
        lines.append(f"average score {summary.average:.1f}")
    if summary.done:
        lines.append("worst calls:")
        lines += [f"  {score:5.1f}  {name}" for name, score in summary.worst()]
    if summary.failed:
        lines.append("failed:")
        lines += [f"  {name}: {reason}" for name, reason in summary.failed]
    if summary.warnings:
        lines.append("metadata problems (those calls were processed without it):")
        lines += [f"  {w}" for w in summary.warnings]
    return "\n".join(lines)


@click.command()
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Calls of this day (started, else stored).",
)
@click.option("--manager", help="Only this manager's calls.")
@click.option(
    "--sort", type=click.Choice(["score", "-score", "time"]), default="time", show_default=True
)
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per call.")
def calls(day: datetime | None, manager: str | None, sort: str, limit: int, as_json: bool) -> None:
    """List stored calls with their latest score.

    \b
    callqa calls --date 2026-11-27 --sort score
    """
    day_only = day.date() if day else None
    query = CallQuery.model_validate(
        {"date_from": day_only, "date_to": day_only, "manager": manager, "sort": sort}
    )
    with connect(Settings.from_env().database)() as db:
        found, _ = search_calls(db, query, limit=limit)
        jobs = last_jobs(db, [call.id for call, *_ in found])
    for call, name, *_ in found:
        state, error = jobs.get(call.id, (None, None))
        if as_json:
            row = {"id": call.id, "file": call.original_name, "manager": name, "score": call.score,
                   "state": state, "error": error, "duration": call.duration, "direction": call.direction,
                   "started_at": call.started_at, "created_at": call.created_at, "deal_id": call.deal_id,
                   "outcome": call.outcome}  # fmt: skip
            click.echo(json.dumps(row, default=str))
        else:
            score = f"{call.score:5.1f}" if call.score is not None else "    -"
            when = call.started_at or call.created_at
            click.echo(f"{call.id:6} {score}  {str(when)[:16]}  {name or '-':16} {call.original_name}"
                       f"{'  FAILED: ' + error if error else ''}")  # fmt: skip


@click.command()
@click.option("--concurrency", type=click.IntRange(1), default=1, show_default=True,
              help="Worker processes; each loads the model once.")  # fmt: skip
@click.option("--beat", is_flag=True, help="Also run the schedule that scans CALLQA_INCOMING_DIR.")
@click.option("--loglevel", default="info", show_default=True)
def worker(concurrency: int, beat: bool, loglevel: str) -> None:
    """A Celery worker: takes calls from Redis (CALLQA_REDIS_URL), transcribes, analyses, stores.

    \b
    callqa worker --concurrency 2
    """
    try:
        _check_redis(Settings.from_env().redis_url)
    except CallqaError as error:
        _fail(str(error).replace(", or run without --queue", ""))
        sys.exit(2)
    run_worker(concurrency, beat, loglevel)


@click.command()
@click.option("--script", "script_name", required=True,
              help="The new script: a pack id or YAML file, or ID@VERSION for a stored version.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def rescore(script_name: str, as_json: bool) -> None:
    """Re-analyse every stored transcript against a script version, without transcribing again.

    \b
    callqa rescore --script b2b_outbound_v2.yaml
    callqa rescore --script b2b_outbound@1
    """
    settings = Settings.from_env()
    ctx = Context.from_settings(settings)
    done, failed = rescore_all(ctx, script_name)
    if as_json:
        click.echo(json.dumps({"rescored": len(done), "failed": [{"call": c, "reason": r} for c, r in failed],
                               "average_score": sum(done.values()) / len(done) if done else None}))  # fmt: skip
    else:
        average = f", average score {sum(done.values()) / len(done):.1f}" if done else ""
        click.echo(f"rescored {len(done)} calls{average}")
        for call, reason in failed:
            click.echo(f"  call {call}: {reason}")
    if failed:
        sys.exit(1)
