"""Commands for heads of sales and trainers: ``callqa revive`` (lost leads worth a call back)."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import yaml

from analysis.calibrate import calibrate as fit
from analysis.kpi import Row
from callqa.errors import InputError
from callqa.settings import Settings
from cli.console import fail
from pipeline.context import Context
from pipeline.objections import refit_objections
from pipeline.scripts import resolve_script
from scripts_lib import ScriptPack
from scripts_lib.draft import draft_pack
from scripts_lib.draft import markdown as handout
from storage import connect
from storage.drafts import labelled_calls, mined
from storage.kpis import kpi_table, latest_week
from storage.kpis import to_csv as kpi_csv
from storage.leads import revivable, row
from storage.leads import to_csv as leads_csv
from storage.scripts import stored_pack

_DAY = click.DateTime(["%Y-%m-%d"])


def _csv(text: str, path: Path) -> bool:
    """Write the CSV to ``path``; True when that is stdout ('-'), which then holds nothing else."""
    if str(path) == "-":
        click.echo(text, nl=False)
        return True
    path.write_text(text, encoding="utf-8")
    return False


@click.command()
@click.option("--since", type=_DAY, help="Calls from this day on (YYYY-MM-DD).")
@click.option("--until", type=_DAY, help="Calls up to and including this day.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the CSV for the CRM here ('-': stdout instead of the table).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="One JSON object per lead on stdout.")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True,
              help="Where the pages are, for the links to each moment.")  # fmt: skip
def revive(
    since: datetime | None,
    until: datetime | None,
    csv_path: Path | None,
    as_json: bool,
    base_url: str,
) -> None:
    """Lost calls whose objection went unhandled, or where the manager gave up at the first no,
    most revivable first.

    \b
    callqa revive --since 2026-11-01
    callqa revive --since 2026-11-01 --csv leads.csv
    """
    sessions = connect(Settings.from_env().database)
    with sessions() as db:
        leads = revivable(db, since.date() if since else None, until.date() if until else None)
    base = base_url.rstrip("/")
    if csv_path is not None and _csv(leads_csv(leads, base), csv_path):
        return
    if as_json:
        for lead in leads:
            click.echo(json.dumps(row(lead, base), ensure_ascii=False))
        return
    for lead in leads:
        r = lead.revival
        click.echo(f"{r.revivability:4.2f}  {lead.at:%Y-%m-%d %H:%M}  {lead.manager or '-':14} "
                   f"{r.title} at {int(r.moment) // 60:02d}:{int(r.moment) % 60:02d}: \u201c{r.said}\u201d")  # fmt: skip
        click.echo(f"      {'; '.join(r.reasons)}  {base}/calls/{lead.call_id}")
    click.echo(f"{len(leads)} revivable lead{'s' if len(leads) != 1 else ''}"
               + (f"; CSV in {csv_path}" if csv_path else ""), err=True)  # fmt: skip


@click.command()
@click.option("--week", help="An ISO week, e.g. 2026-W48 [default: the week of the newest call].")
@click.option("--day", type=_DAY, help="One day instead of a week (YYYY-MM-DD).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the table as CSV here ('-': stdout instead of the table).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="One JSON object per manager on stdout.")
@click.option("--script", help="Only the calls scored against this script pack (with two products, one each).")
def report(week: str | None, day: datetime | None, csv_path: Path | None, as_json: bool, script: str | None) -> None:
    """Each manager's key numbers for a week or a day, against their own last four periods and the
    team; significant drops are flagged. Exits 1 when any number dropped.

    \b
    callqa report --week 2026-W48
    callqa report --day 2026-11-27 --json
    callqa report --week 2026-W48 --script fleettrack
    """
    with connect(Settings.from_env().database)() as db:
        period = day.strftime("%Y-%m-%d") if day else week or latest_week(db)
        rows = kpi_table(db, period, pack=script)
    if csv_path is not None and _csv(kpi_csv(rows), csv_path):
        return
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    else:
        _print_table(period, rows)
    if any(row["drops"] for row in rows):
        sys.exit(1)


def _print_table(period: str, rows: list[Row]) -> None:
    def show(value: Any, unit: str = "", share: bool = False) -> str:
        if value is None:
            return "-"
        return f"{float(value):.0%}" if share else f"{value}{unit}"

    click.echo(f"{period}: {len(rows)} managers")
    click.echo(f"{'manager':16} {'calls':>5} {'talk':>7} {'score':>6} {'own avg':>7} {'team':>6} "
               f"{'handled':>7} {'stuck':>6} {'next':>4} {'won':>5}")  # fmt: skip
    for r in rows:
        trailing, team = r["trailing"], r["team"]
        click.echo(f"{r['manager']:16} {r['calls']:>5} {show(r['talk_minutes'], 'm'):>7} "
                   f"{show(r['average_score']):>6} {show(trailing and trailing['average_score']):>7} "
                   f"{show(team and team['average_score']):>6} {show(r['handled_share'], share=True):>7} "
                   f"{show(r['stuck_seconds'], 's'):>6} {r['next_steps']:>4} {show(r['conversion'], share=True):>5}")  # fmt: skip
        for d in r["drops"]:
            click.echo(f"  DROP {d['what']}: {d['before']} -> {d['now']} (z {d['z']})")


@click.command()
@click.option("--script", "script_name", required=True, help="The pack: a stored ID[@VERSION], bundled id or YAML file.")
@click.option("--since", type=_DAY, help="Calls from this day on (YYYY-MM-DD).")
@click.option("--until", type=_DAY, help="Calls up to and including this day.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the draft pack (YAML) here.")
@click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path), help="Write a handout for training here.")
@click.option("--json", "as_json", is_flag=True, help="The groups as JSON on stdout.")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True, help="Where the pages are, for links.")
def mine(
    script_name: str, since: datetime | None, until: datetime | None, out: Path | None,
    markdown: Path | None, as_json: bool, base_url: str,
) -> None:  # fmt: skip
    """What the best managers say at each stage and in answer to each objection, grouped and
    ranked by how often it wins deals; a draft of the next version of the pack.

    \b
    callqa mine --script b2b_outbound --since 2026-11-01 --out draft.yaml --markdown training.md
    """
    sessions = connect(Settings.from_env().database)
    script_id = resolve_script(sessions, script_name)
    with sessions() as db:
        pack = stored_pack(db, script_id)
        groups = mined(db, pack.id, since.date() if since else None, until.date() if until else None)
    base = base_url.rstrip("/")
    if out is not None:
        out.write_text(draft_pack(pack, groups), encoding="utf-8")
    if markdown is not None:
        markdown.write_text(handout(pack, groups, base), encoding="utf-8")
    if as_json:
        click.echo(json.dumps({target: [{"representative": g.representative, "calls": g.calls, "won_rate": g.won_rate,
                                         "team_rate": g.team_rate, "lift": round(g.lift, 3),
                                         "moments": [{"call": m.call_id, "manager": m.manager, "start": m.start,
                                                      "text": m.text} for m in g.members]}
                                        for g in found] for target, found in groups.items()}, ensure_ascii=False))  # fmt: skip
        return
    for target, found in groups.items():
        click.echo(target)
        for g in found:
            click.echo(f"  {g.lift:+.2f}  \u201c{g.representative}\u201d  ({g.evidence()})")
    if out is not None:
        click.echo(f"draft of {pack.id} v{pack.version + 1} in {out}", err=True)


@click.command()
@click.option("--script", "script_name", required=True, help="The pack: a stored ID[@VERSION], bundled id or YAML file.")
@click.option("--since", type=_DAY, help="Calls from this day on (YYYY-MM-DD).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the pack's next version with the proposed weights here.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="The calibration as JSON on stdout.")
@click.option("--objections", is_flag=True,
              help="Instead: refit this team's model of the client's pushback from the objections its "
                   "reviewers added, confirmed or took out; the script's calls are analysed with it "
                   "from now on (rescore to apply it to those stored).")  # fmt: skip
def calibrate(script_name: str, since: datetime | None, out: Path | None, as_json: bool, objections: bool) -> None:
    """Which checkpoints and behaviours predict won deals here, how often the machine agrees with
    the reviewers, and the checkpoint weights the outcomes suggest. Exits 1 with too few labels.

    \b
    callqa calibrate --script b2b_outbound --since 2026-09-01 --out b2b_outbound_v2.yaml
    callqa calibrate --script b2b_outbound --objections
    """
    if objections:
        _refit_objections(script_name, since, as_json)
        return
    sessions = connect(Settings.from_env().database)
    with sessions() as db:
        pack = stored_pack(db, resolve_script(sessions, script_name))
        calls = labelled_calls(db, pack.id, since.date() if since else None)
    result = fit(calls, {c.id: c.weight for c in pack.checkpoints})
    if out is not None and result.enough:
        out.write_text(_reweighted(pack, result.weights, result.message), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(result), ensure_ascii=False))
    else:
        click.echo(result.message)
        for p in result.predictors[:8]:
            rates = (f"  won {p['won_when_passed']:.0%} when passed, {p['won_when_failed']:.0%} when not"
                     if p.get("won_when_passed") is not None and p.get("won_when_failed") is not None else "")  # fmt: skip
            click.echo(f"  {p['coefficient']:+.2f}  {p['feature']}{rates}")
        for target, a in result.agreement.items():
            click.echo(f"  reviewers kept {a['agreed']} of {a['reviewed']} verdicts on {target} ({a['rate']:.0%})")
        if result.enough:
            click.echo("proposed weights: " + ", ".join(f"{c} {w:g}" for c, w in result.weights.items()))
    if not result.enough:
        sys.exit(1)


def _refit_objections(script_name: str, since: datetime | None, as_json: bool) -> None:
    ctx = Context.from_settings(Settings.from_env())
    with ctx.sessions() as db:
        pack = stored_pack(db, resolve_script(ctx.sessions, script_name))
    try:
        message = refit_objections(ctx, pack, since.date() if since else None)
    except InputError as error:
        if as_json:
            click.echo(json.dumps({"refitted": False, "message": str(error)}, ensure_ascii=False))
        else:
            fail(str(error))
        sys.exit(1)
    if as_json:
        click.echo(json.dumps({"refitted": True, "message": message}, ensure_ascii=False))
    else:
        click.echo(f"{pack.id}: {message}; its calls are analysed with it from now on "
                   "(rescore them to apply it to those stored)")  # fmt: skip


def _reweighted(pack: ScriptPack, weights: dict[str, float], evidence: str) -> str:
    data: dict[str, Any] = {"id": pack.id, "version": pack.version + 1} | pack.model_dump(mode="json", exclude_defaults=True)
    for checkpoint in data["checkpoints"]:
        checkpoint["weight"] = weights[checkpoint["id"]]
    header = (f"# {pack.id} v{pack.version + 1}: checkpoint weights proposed by `callqa calibrate`\n"
              f"# from this team's deal outcomes: {evidence}.\n")  # fmt: skip
    return header + str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100))
