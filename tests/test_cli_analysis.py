"""``callqa analyze`` and ``callqa evaluate`` on transcript files: output and bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import PATIENCE
from test_analysis import NOISY_GOOD, transcript


def callqa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=PATIENCE, check=False
    )


def write_call(path: Path) -> Path:
    path.write_text(transcript(NOISY_GOOD).to_json())
    return path


def test_analyze_transcripts_one_bad_file_does_not_stop_the_rest(tmp_path: Path) -> None:
    good = write_call(tmp_path / "good.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"utterances": [{"speaker": "boss", "start": 0, "end": 1, "text": "hi"}]}')
    noise = tmp_path / "noise.wav"  # recordings and transcripts are loaded a handful at a time
    noise.write_bytes(b"RIFF, but not a recording")
    result = callqa("analyze", str(broken), str(tmp_path / "missing.json"), str(noise), str(good),
                    "--script", "b2b_outbound", "--json")  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"callqa: {broken}: transcript: ")
    assert errors[1] == f"callqa: {tmp_path / 'missing.json'}: No such file or directory"
    assert errors[2].startswith(f"callqa: {noise}: ") and len(errors) == 3
    [line] = result.stdout.splitlines()
    report = json.loads(line)
    assert report["script"] == {"id": "b2b_outbound", "version": 1, "title": "B2B outbound call (English)"}
    assert report["score"] >= 90 and report["objections"][0]["type"] == "price"


def test_unknown_script_exits_with_the_bundled_ones(tmp_path: Path) -> None:
    result = callqa("analyze", str(write_call(tmp_path / "c.json")), "--script", "nope")
    assert result.returncode == 2
    assert result.stderr.startswith("callqa: nope: no such script pack (bundled: b2b_outbound")


def test_evaluate_reads_labels_and_names_a_bad_label_file(tmp_path: Path) -> None:
    write_call(tmp_path / "a.json")
    labels = {"checkpoints": ["greeting", "introduction", "purpose", "needs_discovery", "presentation",
                              "next_step", "farewell"],
              "objections": [{"type": "price", "handled": True}], "outcome": "won"}  # fmt: skip
    (tmp_path / "a.labels.json").write_text(json.dumps(labels))
    result = callqa("evaluate", str(tmp_path), "--script", "b2b_outbound", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert (figures["checkpoint_f1"], figures["objection_f1"], figures["handled_accuracy"]) == (1.0, 1.0, 1.0)
    readable = callqa("evaluate", str(tmp_path), "--script", "b2b_outbound")
    assert "checkpoint F1 1.000" in readable.stdout

    write_call(tmp_path / "b.json")
    (tmp_path / "b.labels.json").write_text(json.dumps({"outcome": "maybe"}))
    result = callqa("evaluate", str(tmp_path), "--script", "b2b_outbound")
    assert result.returncode == 1
    assert f"callqa: {tmp_path / 'b.labels.json'}: outcome: String should match pattern" in result.stderr

    # A label file without its recording is named, and the other calls are still measured.
    (tmp_path / "b.labels.json").unlink()
    (tmp_path / "c.labels.json").write_text(json.dumps(labels))
    result = callqa("evaluate", str(tmp_path), "--script", "b2b_outbound", "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"callqa: {tmp_path / 'c.labels.json'}: no recording or transcript named c.*" in result.stderr
    assert json.loads(result.stdout)["calls"] == 1


def test_a_russian_recording_is_transcribed_with_the_multilingual_model(cache_dir: Path) -> None:
    import os

    recording = Path(__file__).parent / "fixtures" / "audio" / "outbound_ru.stereo.wav"
    result = subprocess.run(
        [sys.executable, "-m", "cli", "analyze", str(recording), "--script", "b2b_outbound_ru", "--json"],
        capture_output=True, text=True, timeout=PATIENCE, check=False,
        env={**os.environ, "CALLQA_CACHE_DIR": str(cache_dir)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["transcript"]["model"], report["transcript"]["language"]) == ("base", "ru")
    passed = {c["id"] for c in report["checkpoints"] if c["passed"]}
    # The manager greets, names himself and the company, asks how they deliver now and
    # proposes Thursday, and leaves the goodbye to the client. (He never presents the service,
    # but the base model's words for his question change with the machine's load, and one
    # garbling, "как вы сей чардо ставляете заказа клиентом.", reads as a presentation: issue 18's
    # determinism, and issue 13's accuracy; so only what holds on every run is asserted.)
    assert {"greeting", "introduction", "needs_discovery", "next_step"} <= passed
    assert "farewell" not in passed


def test_a_robotic_russian_call_is_heard_in_the_scripts_language_whatever_the_detection_says(
    cache_dir: Path,
) -> None:
    """espeak-ng's Russian over a telephone line: Whisper cannot place its language (it guesses
    German, Malayalam... unsure). A Russian team's call is heard in Russian, its script's language,
    and analysed, with a warning naming both languages; told the language, no guess is made."""
    import os

    recording = Path(__file__).parent / "fixtures" / "audio" / "robot_ru.8k.wav"
    env = {**os.environ, "CALLQA_CACHE_DIR": str(cache_dir)}

    def analysed(*extra: str, **settings: str) -> dict[str, Any]:
        result = subprocess.run(
            [sys.executable, "-m", "cli", "analyze", str(recording), "--script", "b2b_outbound_ru", "--json", *extra],
            capture_output=True, text=True, timeout=PATIENCE, check=False, env=env | settings,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    report = analysed()
    assert (report["transcript"]["model"], report["transcript"]["language"]) == ("base", "ru")
    assert re.search("[а-яё]", " ".join(u["text"] for u in report["transcript"]["utterances"]))  # heard as Russian
    [warning] = [w for w in report["warnings"] if "did not sound clearly like 'ru'" in w]
    assert re.search(r"the nearest other was '[a-z]{2,3}'", warning)
    told = analysed(CALLQA_LANGUAGE="ru")  # as --language ru: test_analyze_takes_the_recognisers_options
    assert told["transcript"]["language"] == "ru" and told["transcript"]["sounded_like"] is None
    assert not [w for w in told["warnings"] if "did not sound clearly" in w]


@pytest.mark.slow  # hears a call
def test_analyze_takes_the_recognisers_options_and_names_a_bad_one(tmp_path: Path) -> None:
    recording = Path(__file__).parent / "fixtures" / "audio" / "outbound_en.8k.wav"
    model = callqa("analyze", str(recording), "--script", "b2b_outbound", "--model", "no-such-model")
    assert model.returncode == 2 and model.stderr.startswith("callqa: model no-such-model: unknown name; use tiny.en")
    told = callqa("analyze", str(recording), "--script", "b2b_outbound", "--language", "ru")  # heard as told
    assert told.returncode == 1 and "script b2b_outbound: it is for language 'en', the call is in 'ru'" in told.stderr
    engine = callqa("analyze", str(recording), "--script", "b2b_outbound", "--engine", "whisper.cpp")
    assert engine.returncode == 2 and "'whisper.cpp' is not one of 'faster-whisper', 'openai-whisper'" in engine.stderr


def test_kept_transcripts_are_read_again_and_heard_afresh_when_the_recording_changes(
    tmp_path: Path, cache_dir: Path
) -> None:
    import os
    import shutil

    fixtures = Path(__file__).parent / "fixtures"
    call, kept = tmp_path / "calls" / "a.wav", tmp_path / "kept"
    call.parent.mkdir()
    shutil.copy(fixtures / "calls" / "won_quick.8k.wav", call)
    env = {**os.environ, "CALLQA_CACHE_DIR": str(cache_dir)}

    def analyze() -> tuple[dict, str]:  # type: ignore[type-arg]
        result = subprocess.run([sys.executable, "-m", "cli", "analyze", str(call), "--script", "b2b_outbound",
                                 "--json", "--transcripts", str(kept)],
                                capture_output=True, text=True, timeout=PATIENCE, check=False, env=env)  # fmt: skip
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout), result.stderr

    heard, told = analyze()
    assert told == f"transcripts: 0 read from {kept}, 1 heard and kept there\n"
    again, told = analyze()  # a pack edited since would be applied to the same words, heard once
    assert told == f"transcripts: 1 read from {kept}, 0 heard and kept there\n"
    assert again["transcript"] == heard["transcript"] and again["score"] == heard["score"]
    assert again["metrics"]["manager_level_dbfs"] == heard["metrics"]["manager_level_dbfs"]

    shutil.copy(fixtures / "calls" / "lost_monologue.8k.wav", call)  # another call under the same name
    other, told = analyze()
    assert told.startswith("transcripts: 0 read") and other["transcript"] != heard["transcript"]
    for damaged in kept.glob("*.json"):
        damaged.write_text('{"utterances": [')
    redone, told = analyze()
    assert told.startswith("transcripts: 0 read") and redone["transcript"] == other["transcript"]

    (tmp_path / "a-file").write_text("")
    result = subprocess.run([sys.executable, "-m", "cli", "analyze", str(call), "--script", "b2b_outbound",
                             "--transcripts", str(tmp_path / "a-file" / "kept")],
                            capture_output=True, text=True, timeout=PATIENCE, check=False, env=env)  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"callqa: {tmp_path / 'a-file' / 'kept'}: cannot keep transcripts there (")


def test_a_recording_of_one_voice_is_reported_as_such(tmp_path: Path, cache_dir: Path) -> None:
    """A mono recording of one real voice (a reader on the telephone, as a voicemail would be)
    is not split into a manager and a client: the report says the client's side went unchecked."""
    import os

    from conftest import SPEECH

    def analyze(*more: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "cli", "analyze", str(SPEECH / "osr_harvard72_8k.wav"), "--script", "b2b_outbound",
             "--transcripts", str(tmp_path), *more],
            capture_output=True, text=True, timeout=PATIENCE, check=False,
            env={**os.environ, "CALLQA_CACHE_DIR": str(cache_dir)},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout

    report = json.loads(analyze("--json"))
    assert report["one_voice"] and report["transcript"]["role_method"] == "single-speaker"
    assert {u["speaker"] for u in report["transcript"]["utterances"]} == {"manager"} and not report["objections"]
    assert "Note: one voice was heard (a voicemail, a monologue)" in analyze()  # read back from --transcripts


def test_the_readme_shows_what_its_main_command_prints() -> None:
    """The first thing a newcomer compares: the README's second setup command and its report."""
    readme = Path("README.md").read_text(encoding="utf-8")
    command = re.search(r"\.venv/bin/callqa (analyze \S+ --script \S+)", readme)
    shown = re.search(r"prints the scored report:\n\n```\n(.*?)```", readme, re.DOTALL)
    assert command and shown, "README: the main command or its output block is gone"
    result = callqa(*command.group(1).split())
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == shown.group(1)
