"""``callqa batch`` and ``callqa calls``: process a folder of recordings, and see what was stored."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from callqa.errors import CallqaError
from callqa.settings import Settings


def _fail(message: str) -> None:
    click.echo(f"callqa: {message}", err=True)


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--script", "script_name", help="Script pack id or YAML file [default: CALLQA_SCRIPT]."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def batch(folder: Path, script_name: str | None, as_json: bool) -> None:
    """Process every recording under FOLDER (subfolders too): store, transcribe, analyse.

    A rerun skips recordings already analysed with this script version (same content).

    \b
    callqa batch /recordings/2026-11-27 --script b2b_outbound
    """
    from callqa.storage import DirectoryStore, connect
    from worker.batch import find_recordings, run_batch
    from worker.pipeline import Context, register_script

    try:
        settings = Settings.from_env()
        name = script_name or settings.script
        if not name:
            raise click.UsageError("which script? pass --script or set CALLQA_SCRIPT")
        if not folder.is_dir():
            raise CallqaError(f"{folder}: no such folder")
        sessions = connect(settings.database)
        ctx = Context(sessions, DirectoryStore(settings.data_dir), settings)
        script_id = register_script(sessions, name)
    except CallqaError as error:
        _fail(str(error))
        sys.exit(2)
    total = sum(1 for _ in find_recordings(folder))
    if total == 0:
        _fail(f"{folder}: no recordings found")
        sys.exit(1)
    with click.progressbar(length=total, label="calls", file=sys.stderr, show_pos=True,
                           item_show_func=lambda n: n) as bar:  # fmt: skip
        seen: list[str] = []

        def step(name: str) -> None:
            if seen:
                bar.update(1)
            seen.append(name)
            bar.current_item = name
            bar.render_progress()

        summary = run_batch(ctx, folder, script_id, progress=step)
        bar.update(1)
    if as_json:
        click.echo(json.dumps({
            "done": len(summary.done), "skipped": len(summary.skipped),
            "failed": [{"file": f, "reason": r} for f, r in summary.failed],
            "average_score": summary.average, "worst": [{"file": f, "score": s} for f, s in summary.worst()],
            "warnings": summary.warnings,
        }))  # fmt: skip
    else:
        click.echo(_summary_text(summary))
    if summary.failed:
        sys.exit(1)


def _summary_text(summary) -> str:  # type: ignore[no-untyped-def]
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
    from callqa.storage import connect
    from callqa.storage.queries import list_calls

    try:
        sessions = connect(Settings.from_env().database)
    except CallqaError as error:
        _fail(str(error))
        sys.exit(2)
    rows = list_calls(sessions, day.date() if day else None, manager, sort, limit)
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, default=str))
        else:
            score = f"{row['score']:5.1f}" if row["score"] is not None else "    -"
            when = row["started_at"] or row["created_at"]
            click.echo(f"{row['id']:6} {score}  {str(when)[:16]}  {row['manager'] or '-':16} {row['file']}"
                       f"{'  FAILED: ' + row['error'] if row['error'] else ''}")  # fmt: skip
