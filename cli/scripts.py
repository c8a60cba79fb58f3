"""``callqa script check``: validate the packs trainers write, and where one disagrees with
reviewed calls."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from analysis.analyze import pack_warnings
from analysis.checkpoints import clock
from analysis.feedback import Reviewed, feedback
from callqa.settings import Settings
from cli.analysis import TRANSCRIPTS, CallLoader, cases, labelled, report_kept
from cli.console import fail as _fail
from scripts_lib import ScriptError, example_pack, load_pack
from transcribe.transcript import Transcript


@click.group()
def script() -> None:
    """Sales script packs: check the ones trainers write."""


@script.command("new")
@click.argument("pack_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write it [default: PACK_ID.yaml here].")  # fmt: skip
def script_new(pack_id: str, output: Path | None) -> None:
    """Write a starting pack: every key callqa knows, each explained in a comment.

    \b
    callqa script new parcels_outbound      # writes parcels_outbound.yaml
    callqa script check parcels_outbound.yaml
    """
    text = example_pack(pack_id)
    target = output or Path(f"{pack_id}.yaml")
    try:
        with target.open("x", encoding="utf-8") as out:  # never over a pack that is there
            out.write(text)
    except FileExistsError:
        raise ScriptError(f"{target}: exists already; name another file with -o") from None
    except OSError as error:
        raise ScriptError(f"{target}: cannot write ({error.strerror})") from None
    click.echo(f"wrote {target}: edit it, then run: callqa script check {target}")


@script.command("check")
@click.argument("packs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line per pack (per item with --against).")
@click.option("--against", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A folder of labelled or reviewed calls: list, per checkpoint and objection type, the "
                   "calls it misses or wrongly finds, and the sentences nearest to it.")  # fmt: skip
@click.option("--input", "kind", type=click.Choice(["text", "stereo", "mono"]), default="stereo",
              show_default=True, help="With --against, for reviewed calls: what is analysed.")  # fmt: skip
@TRANSCRIPTS
def script_check(
    packs: Sequence[str], as_json: bool, against: Path | None, kind: str, transcripts: Path | None
) -> None:
    """Validate script packs (bundled ids or YAML files); say OK or what is wrong and where.

    \b
    callqa script check b2b_outbound
    callqa script check my_pack.yaml
    callqa script check my_pack.yaml --against reviewed_calls/ --input text
    callqa script check my_pack.yaml --against reviewed_calls/ --transcripts ~/kept   # re-runs: seconds
    """
    if against is not None:
        if len(packs) != 1:
            _fail("--against: check one pack at a time")
            sys.exit(2)
        check_against(packs[0], against, kind, as_json, transcripts)
        return

    failed = 0
    for name in packs:
        try:
            pack = load_pack(name)
        except ScriptError as error:
            failed += 1
            if as_json:
                click.echo(json.dumps({"pack": name, "ok": False, "error": str(error),
                                       "errors": str(error).splitlines()}))  # fmt: skip
            else:
                for line in str(error).splitlines():
                    _fail(line)
            continue
        warnings = pack_warnings(pack)
        summary = {
            "pack": name, "ok": True, "id": pack.id, "version": pack.version,
            "language": pack.language, "checkpoints": len(pack.checkpoints),
            "objections": len(pack.objections), "techniques": len(pack.techniques),
            "warnings": warnings,
        }
        if as_json:
            click.echo(json.dumps(summary))
        else:
            click.echo(
                f"{name}: OK ({pack.id} v{pack.version}, {pack.language}, "
                f"{len(pack.checkpoints)} checkpoints, {len(pack.objections)} objection types, "
                f"{len(pack.techniques)} techniques)"
            )
            for warning in warnings:
                click.echo(f"  warning: {warning}")
    if failed:
        sys.exit(1)


def check_against(pack_name: str, folder: Path, kind: str, as_json: bool, transcripts: Path | None = None) -> None:
    """``callqa script check PACK --against FOLDER``: the pack's disagreements with reviewed calls."""
    pack = load_pack(pack_name)
    calls = labelled(folder)
    if not calls:
        _fail(f"{folder}: no label files (NAME.labels.json) or reviewed calls (ID.json with turns) found")
        sys.exit(2)
    load = CallLoader(Settings.from_env(), pack.language, transcripts)
    found, failed = cases(calls, kind, pack, load)
    report_kept(load)
    reviewed = [Reviewed(c.name, c.labels, Transcript.from_dict(c.report.transcript), c.report) for c in found]
    items = feedback(pack, reviewed)
    for item in items:
        if as_json:
            click.echo(json.dumps(dataclasses.asdict(item), ensure_ascii=False))
            continue
        total = item.agreed + len(item.missed) + len(item.found_wrongly)
        click.echo(f"{item.kind} {item.id} ({item.title}): right in {item.agreed} of {total} calls")
        for miss in item.missed:
            near = "; ".join(f"[{clock(s.start)}] \u201c{s.text}\u201d ({s.confidence:.2f})" for s in miss.sentences)
            click.echo(f"  missed in {miss.call}; nearest: {near}")
        for wrong in item.found_wrongly:
            said = "; ".join(f"[{clock(s.start)}] \u201c{s.text}\u201d ({s.confidence:.2f})" for s in wrong.sentences)
            click.echo(f"  found, but not there, in {wrong.call}: {said}")
    if not as_json:
        click.echo("Add the words people really use to the pack's phrases; make phrases that match "
                   "where they should not more specific.")  # fmt: skip
    if failed:
        sys.exit(1)
