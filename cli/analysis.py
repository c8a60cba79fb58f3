"""``callqa analyze`` and ``callqa evaluate``: scored reports, and their accuracy on a golden set."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from analysis.analyze import analyze as analyze_call
from analysis.checkpoints import clock
from analysis.evaluate import Case, is_reviewed_call, read_labels, reference_transcript
from analysis.evaluate import evaluate as measure
from analysis.redact import redact, redact_report
from analysis.report import CallReport
from callqa.errors import CallqaError, InputError
from callqa.settings import Settings
from cli.console import fail as _fail
from cli.transcription import ENGINE, MODEL
from pipeline.calls import Call, is_transcript, load_calls, measured
from pipeline.kept import KeptTranscripts
from pipeline.process import TOGETHER
from scripts_lib import ScriptPack, load_pack
from transcribe import RecognitionOptions, TranscribeOptions
from transcribe.audio import SUFFIXES
from transcribe.recognisers import Recognisers
from transcribe.transcript import Transcript


class CallLoader:
    """Reads calls: transcripts directly; recordings through the engines the settings name,
    loaded on first need. ``language``: the script's, expected unless Whisper is sure the speech is
    in another (the analysis then refuses the call, naming both); the settings' ``language``, where
    set, is told to the recogniser instead. ``transcripts``: a folder where
    the recordings' transcripts are kept and found again (``pipeline.kept``)."""

    def __init__(self, settings: Settings, language: str, transcripts: Path | None = None) -> None:
        self._settings, self._language = settings, language
        # A language the user names is told to the recogniser; otherwise the script's is expected.
        self._recognition = RecognitionOptions(language=settings.language)
        self._engines: Recognisers | None = None
        self.kept = None
        if transcripts is not None:  # kept for the engines these settings name
            self.kept = KeptTranscripts(transcripts, repr(Recognisers.from_settings(settings)))

    def __call__(self, path: Path) -> Call:
        [call] = self.many([path])
        if isinstance(call, CallqaError):
            raise call
        return call

    def many(self, paths: Sequence[Path]) -> list[Call | CallqaError]:
        """Each path's call or the error that stopped it (naming the file), in order; the
        recordings among them recognised side by side (``load_calls``)."""
        options = [TranscribeOptions(
            recognition=self._recognition,
            expected_language=self._language,
            max_duration=self._settings.max_duration,
            manager_channel=self._settings.manager_channel_for(path),  # type: ignore[arg-type]
        ) for path in paths]  # fmt: skip
        found: dict[int, Call | CallqaError] = {}
        kept: dict[int, Path] = {}  # each recording's file in the --transcripts folder
        if self.kept is not None:
            for i, path in enumerate(paths):
                file = None if is_transcript(path) else self.kept.where(path, options[i])
                if file is None:
                    continue
                kept[i] = file
                transcript = self.kept.get(file)
                if transcript is None:
                    continue
                try:
                    found[i] = measured(path, transcript, options[i])  # the voice levels
                except CallqaError as error:
                    found[i] = error
        rest = [i for i in range(len(paths)) if i not in found]
        if not all(is_transcript(paths[i]) for i in rest):
            self.engines()
        diarizer = self._engines.diarizer() if self._engines else None
        loaded = load_calls([paths[i] for i in rest], self._engines, [options[i] for i in rest], diarizer)
        for i, call in zip(rest, loaded, strict=True):
            found[i] = call
            if self.kept is not None and i in kept and isinstance(call, Call):
                self.kept.put(kept[i], call.transcript)
        return [found[i] for i in range(len(paths))]

    def engines(self) -> Recognisers:
        """The engines the settings name, made on first need (each loads its model on first use)."""
        if self._engines is None:
            self._engines = Recognisers.from_settings(self._settings)
        return self._engines

    def each(self, paths: Sequence[Path]) -> Iterator[tuple[Path, Call | Exception]]:
        """``many`` over any number of paths, a worker's handful (``TOGETHER``) at a time. An
        unexpected failure of a handful is retried call by call, so it stops only its own call."""
        for first in range(0, len(paths), TOGETHER):
            chunk = paths[first : first + TOGETHER]
            try:
                found: list[Call | Exception] = list(self.many(chunk))
            except Exception:  # noqa: BLE001 - find the call that broke it; the others go on
                found = [self._alone(path) for path in chunk]
            yield from zip(chunk, found, strict=True)

    def _alone(self, path: Path) -> Call | Exception:
        try:
            return self.many([path])[0]
        except Exception as error:  # noqa: BLE001 - reported as this call's error
            return error


TRANSCRIPTS = click.option(
    "--transcripts", type=click.Path(file_okay=False, path_type=Path),
    help="A folder to keep the recordings' transcripts in: a later run with the same recordings and "
         "recognition settings reads them from there instead of transcribing again.",
)  # fmt: skip


def report_kept(load: CallLoader) -> None:
    """Say how many recordings were read from the --transcripts folder rather than heard."""
    kept = load.kept
    if kept is not None:
        unwritten = f", {kept.unwritten} could not be kept" if kept.unwritten else ""
        click.echo(f"transcripts: {kept.read} read from {kept.folder}, {kept.written} heard and kept there"
                   f"{unwritten}", err=True)  # fmt: skip


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--script", "script_name", required=True, help="A bundled script pack id or a YAML file."
)
@click.option("--json", "as_json", is_flag=True, help="Print each CallReport as one JSON line.")
@click.option("--redact/--no-redact", default=None,
              help="Print the report with personal data as placeholders [default: CALLQA_REDACT].")  # fmt: skip
@TRANSCRIPTS
@ENGINE
@MODEL
@click.option("--language", help="The language the calls are heard in [default: CALLQA_LANGUAGE, else the "
              "script's, unless Whisper is sure the speech is in another].")  # fmt: skip
def analyze(
    files: Sequence[Path], script_name: str, as_json: bool, redact: bool | None, transcripts: Path | None,
    engine: str | None, model: str | None, language: str | None,
) -> None:  # fmt: skip
    """Score calls against a sales script: checkpoints, objections, metrics, mistakes.

    FILES are recordings (transcribed first) or transcript JSON files.

    \b
    callqa analyze call.wav --script b2b_outbound
    callqa analyze transcript.json --script my_pack.yaml --json
    """
    pack = load_pack(script_name)
    settings = Settings.from_env()
    settings = dataclasses.replace(settings, engine=engine or settings.engine, model=model or settings.model,
                                   language=language.lower() if language else settings.language)  # fmt: skip
    load = CallLoader(settings, pack.language, transcripts)
    if not all(is_transcript(path) for path in files):  # a bad --model or --language stops here, once
        load.engines().for_language(settings.language or pack.language)
    redacting = settings.redact if redact is None else redact
    failed = 0
    for path, call in load.each(files):
        try:
            if isinstance(call, Exception):
                raise call
            report = analyze_call(call.transcript, pack, levels=call.levels)
            if redacting:  # after the analysis, so the score is that of the call as heard
                report = _redacted(report)
        except CallqaError as error:
            failed += 1
            _fail(str(error) if str(path) in str(error) else f"{path}: {error}")
            continue
        except Exception as error:  # noqa: BLE001 - one call's failure must not stop the rest
            failed += 1
            _fail(_unexpected(path, error))
            continue
        click.echo(report.model_dump_json() if as_json else _readable(path, report))
    report_kept(load)
    if failed:
        sys.exit(1)


@click.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--script", "script_name", required=True, help="A bundled script pack id or a YAML file."
)
@click.option("--json", "as_json", is_flag=True,
              help="Print the figures as JSON: one line per input.")  # fmt: skip
@click.option("--input", "inputs", default="stereo", show_default=True,
              help="For reviewed calls (ID.json with turns): text (the reference turns), stereo or "
                   "mono (ID.stereo.flac, ID.mono.flac); several comma-separated.")  # fmt: skip
@TRANSCRIPTS
def evaluate(directory: Path, script_name: str, as_json: bool, inputs: str, transcripts: Path | None) -> None:
    """Measure the analysis on labelled calls: NAME.labels.json next to each recording or
    transcript, or reviewed calls (ID.json with the labels and reference turns).

    \b
    callqa evaluate golden/ --script b2b_outbound
    callqa evaluate devset/fleettrack --script fleettrack.yaml --input text,stereo,mono
    callqa evaluate golden/ --script b2b_outbound --transcripts ~/kept   # re-runs: seconds
    """
    pack = load_pack(script_name)
    load = CallLoader(Settings.from_env(), pack.language, transcripts)
    kinds = [k.strip() for k in inputs.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in INPUTS]
    if unknown or not kinds:
        _fail(f"--input {inputs}: expected text, stereo or mono, comma-separated")
        sys.exit(2)
    calls = labelled(directory)
    if not calls:
        _fail(f"{directory}: no label files (NAME.labels.json) or reviewed calls (ID.json with turns) found")
        sys.exit(2)
    reviewed = any(is_reviewed for _, _, is_reviewed in calls)
    failed = False
    rows = []
    for kind in kinds if reviewed else ["as found"]:
        found, errors = cases(calls, kind, pack, load)
        failed |= errors > 0
        if not found:
            report_kept(load)
            sys.exit(1)
        result = measure(found, [o.id for o in pack.objections])
        rows.append((kind, result))
        if as_json:
            click.echo(json.dumps({"input": kind} | result, ensure_ascii=False))
        else:
            click.echo((f"== {directory} ({kind})\n" if reviewed else "") + _readable_evaluation(result))
    if len(rows) > 1 and not as_json:
        click.echo(_summary(rows))
    report_kept(load)
    if failed:
        sys.exit(1)


INPUTS = ("text", "stereo", "mono")


def labelled(directory: Path) -> list[tuple[str, Path, bool]]:
    """Each labelled call: its name, its labels, and whether it is a reviewed call (whose
    recording or reference text depends on the input) rather than a label file."""
    found: list[tuple[str, Path, bool]] = []
    for path in sorted(directory.rglob("*.json")):
        if path.name.endswith(".labels.json"):
            found.append((path.name.removesuffix(".labels.json"), path, False))
        elif not path.with_name(f"{path.stem}.labels.json").exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                continue  # a transcript or other file: only label files and reviewed calls count
            if is_reviewed_call(data):
                found.append((path.stem, path, True))
    return found


def cases(
    calls: list[tuple[str, Path, bool]], kind: str, pack: ScriptPack, load: CallLoader
) -> tuple[list, int]:  # type: ignore[type-arg]
    """Each call analysed (a bad one is reported and left out), and how many failed. The
    recordings are transcribed a handful at a time, side by side (``CallLoader.each``)."""
    sources: dict[str, Path | CallqaError] = {}
    for name, labels, reviewed in calls:
        if not (reviewed and kind == "text"):
            sources[name] = _recording(name, labels, reviewed, kind)
    heard = dict(load.each([p for p in sources.values() if isinstance(p, Path)]))
    cases, failed = [], 0
    for name, labels, _ in calls:
        try:
            if name not in sources:
                transcript, levels = reference_transcript(labels, pack.language), None
            else:
                source = sources[name]
                call = heard[source] if isinstance(source, Path) else source
                if isinstance(call, Exception):
                    raise call
                transcript, levels = call.transcript, call.levels
            report = analyze_call(transcript, pack, levels=levels)
            cases.append(Case(name, read_labels(labels), report))
        except CallqaError as error:
            failed += 1
            _fail(str(error))
        except Exception as error:  # noqa: BLE001 - one call's failure must not stop the rest
            failed += 1
            _fail(_unexpected(labels, error))
    return cases, failed


def _unexpected(path: Path, error: Exception) -> str:
    return f"{path}: unexpected error, please report it: {type(error).__name__}: {error}"


def _recording(name: str, labels: Path, reviewed: bool, kind: str) -> Path | CallqaError:
    """The recording or transcript to analyse for a label file, or why there is none."""
    try:
        recording = labels.with_name(f"{name}.{kind}.flac") if reviewed else _source(labels.parent, name)
    except CallqaError as error:
        return error
    if not recording.exists():
        return InputError(f"{labels}: no recording {recording.name} beside it")
    return recording


def _summary(rows: list[tuple[str, dict]]) -> str:  # type: ignore[type-arg]
    lines = ["", f"{'input':8} {'checkpoint F1':>13} {'objection F1':>12} {'handled':>8} {'AUC':>6}"]
    for kind, r in rows:
        handled, auc = r["handled_accuracy"], r["separation"]["auc"]
        lines.append(
            f"{kind:8} {r['checkpoint_f1']:13.3f} {r['objection_f1']:12.3f} "
            f"{'-' if handled is None else f'{handled:.3f}':>8} {'-' if auc is None else f'{auc:.3f}':>6}"
        )
    return "\n".join(lines)


def _source(folder: Path, name: str) -> Path:
    """The recording or transcript a label file is about: same name, a transcript preferred."""
    candidates = sorted(
        p for p in folder.glob(f"{name}.*")
        if p.suffix.lower() in SUFFIXES or (p.suffix == ".json" and not p.name.endswith(".labels.json"))
    )  # fmt: skip
    if not candidates:
        raise InputError(f"{folder / name}.labels.json: no recording or transcript named {name}.*")
    return next((p for p in candidates if p.suffix == ".json"), candidates[0])


def _redacted(report: CallReport) -> CallReport:
    """The report and its transcript with the personal data replaced by typed placeholders."""
    redaction = redact(Transcript.from_dict(report.transcript))
    data = redact_report(report.model_dump(mode="json"), redaction)
    return CallReport.model_validate(data | {"transcript": redaction.transcript.to_dict()})


def _readable(path: Path, report: CallReport) -> str:
    m = report.metrics
    lines = [
        f"== {path}: score {report.score:.0f}/100 ({report.script.id} v{report.script.version})",
        *(f"Note: {w}" for w in report.warnings),
        "",
    ]
    lines.append("Checkpoints:")
    for c in report.checkpoints:
        mark = "ok  " if c.passed and not c.misplaced else "late" if c.passed else "MISS"
        said = c.evidence[0] if c.evidence else c.nearest
        where = f"[{clock(said.start)}] {'nearest: ' if c.nearest else ''}{said.text}" if said else ""
        optional = "" if c.required else " (optional)"
        lines.append(f"  {mark} {c.title}{optional}{' (unsure)' if c.unsure else ''}  {where}".rstrip())
    for title, found in (("Objections", report.objections), ("Possible objections", report.possible_objections)):
        if found:
            lines.append(f"{title}:")
        for o in found:
            verdict = "handled" if o.handled else "NOT handled"
            used = f" with {', '.join(o.techniques)}" if o.techniques else ""
            unsure = f" (unsure, {o.confidence:.0%})" if o.unsure else ""
            lines.append(
                f"  [{clock(o.start)}] {o.title}{unsure}: \u201c{o.text}\u201d {verdict}{used}; "
                f"client {o.outcome.replace('_', ' ')}"
            )
    if report.mistakes:
        lines.append("Mistakes:")
        for k in report.mistakes:
            points = f" (-{k.points:g})" if k.points else ""
            lines.append(f"  [{clock(k.start)}] {k.code}{points}: {k.message}")
            lines.append(f"      advice: {k.advice}")
    level = f", voice {m.manager_level_dbfs:.0f} dBFS" if m.manager_level_dbfs is not None else ""
    lines.append(
        f"Metrics: manager talk {m.manager_talk_share:.0%}, longest monologue {m.longest_monologue:.0f} s, "
        f"{m.interruptions_by_manager} interruptions, {m.questions_open} open / {m.questions_closed} closed "
        f"questions, {m.manager_words_per_minute:.0f} words/min{level}"
    )
    return "\n".join(lines) + "\n"


def _unsure_line(n: dict[str, int]) -> str:
    sure = n["verdicts"] - n["unsure"]
    right = sure - (n["wrong"] - n["wrong_unsure"])
    return (f"unsure verdicts: {n['unsure']} of {n['verdicts']}, holding {n['wrong_unsure']} of the {n['wrong']} "
            f"wrong; the other {sure} are {right / max(1, sure):.1%} right")  # fmt: skip


def _readable_evaluation(result: dict) -> str:  # type: ignore[type-arg]
    sep = result["separation"]
    lines = [
        f"{result['calls']} calls",
        (
            f"checkpoint F1 {result['checkpoint_f1']:.3f}   objection-type F1 {result['objection_f1']:.3f}   "
            f"handled accuracy {result['handled_accuracy']}"
        ),
        f"forbidden phrases: precision {result['forbidden']['precision']:.2f} recall {result['forbidden']['recall']:.2f}",
        (
            f"won vs lost: AUC {sep['auc']}, lowest won {sep.get('lowest_won')}, highest lost {sep.get('highest_lost')}"
            f", separated: {sep['separated']}"
        ),
        _unsure_line(result["unsure"]),
        "",
        f"{'':22} {'precision':>9} {'recall':>7} {'F1':>6}",
    ]
    for group in ("checkpoints", "objections"):
        for key, c in result[group].items():
            lines.append(f"{key:22} {c['precision']:9.2f} {c['recall']:7.2f} {c['f1']:6.2f}")
    lines.append("")
    for call in result["per_call"]:
        errors = "; ".join(call["errors"])
        lines.append(f"{call['name']:28} {call['score']:5.1f} {call['outcome'] or '':5} {errors}")
    return "\n".join(lines)
