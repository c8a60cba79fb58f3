"""The analysis end to end, from 8 kHz telephone recordings of the labelled golden set.

21 generated B2B outbound calls (tests/fixtures/golden.py): good calls, skipped stages,
each objection type handled and not, forbidden phrases, interruptions, a monologue, a quiet
manager. Transcribed by the bundled tiny.en, analysed with the bundled b2b_outbound pack.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import PATIENCE, encode

CALLS = Path(__file__).parent / "fixtures" / "calls"


def callqa(*args: str, cache: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CALLQA_CACHE_DIR": str(cache), **settings}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True, text=True, env=env, timeout=PATIENCE, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stereo recordings' transcripts, kept by the first test that hears them."""
    return tmp_path_factory.mktemp("kept-transcripts")


def evaluation(directory: Path, cache: Path, *more: str, **settings: str) -> dict[str, Any]:
    result = callqa("evaluate", str(directory), "--script", "b2b_outbound", "--json", *more, cache=cache, **settings)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_accuracy_on_stereo_8k_recordings_meets_the_targets(cache_dir: Path, kept: Path) -> None:
    figures = evaluation(CALLS, cache_dir, "--transcripts", str(kept))
    # A second run, as after a pack edit, reads every transcript kept by the first: the same figures.
    again = callqa("evaluate", str(CALLS), "--script", "b2b_outbound", "--json", "--transcripts", str(kept),
                   cache=cache_dir)  # fmt: skip
    assert again.stderr == f"transcripts: 21 read from {kept}, 0 heard and kept there\n"
    assert json.loads(again.stdout) == figures
    assert figures["calls"] == 21
    assert figures["checkpoint_f1"] >= 0.90
    assert figures["objection_f1"] >= 0.85
    assert figures["handled_accuracy"] >= 0.85
    # Verdicts by meaning (issue 13) generalise to packs the set was not written for, at a cost here:
    # the wording-only analysis was tuned on these calls (1.000 / 0.938 / AUC 1.0); by meaning,
    # 0.882 / 0.867 and AUC 0.991 with AVX2 kernels, 0.982 with AVX-512 (the int8 kernels and the
    # VAD differ by CPU). Two swapped won/lost pairs of 110 is what a machine may cost.
    assert figures["separation"]["auc"] >= 0.97, figures["separation"]


def test_accuracy_on_mono_8k_recordings_diarized(tmp_path: Path, cache_dir: Path) -> None:
    for wav in CALLS.glob("*.8k.wav"):
        name = wav.name.removesuffix(".8k.wav")
        encode(tmp_path / f"{name}.wav", "wav", "pcm_mulaw", 8000, 1, source=wav)
        shutil.copy(CALLS / f"{name}.labels.json", tmp_path)
    # Their espeak-ng voices are, turn by turn, as alike as one real speaker's: left to decide, the
    # diarizer hears 13 of the 21 as one voice (bench/one_voice.py). These figures are of two voices.
    figures = evaluation(tmp_path, cache_dir, CALLQA_MONO_VOICES="two")
    # One mixed channel: diarization mistakes move some words to the wrong side. With CAM++ and
    # Resemblyzer together and a change of voice found inside a stretch of speech (issue 17):
    # 0.899 / 0.848 / AUC 0.982 with AVX2 kernels, 0.881 / 0.812 / 0.936 with AVX-512 (the old stretch-level Resemblyzer labels gave
    # objection types 0.69). Resemblyzer alone does better on these synthetic voices (0.915 /
    # 0.909 / 1.0), and worse on real ones (bench/diarization.py): the default serves real calls.
    assert figures["checkpoint_f1"] >= 0.85
    assert figures["objection_f1"] >= 0.8
    assert figures["separation"]["auc"] >= 0.92


def test_mistakes_from_audio_are_pinned_to_their_moments(cache_dir: Path, kept: Path) -> None:
    names = ["lost_quiet_manager", "lost_monologue", "lost_interrupting", "lost_forbidden", "won_price_handled"]
    result = callqa("analyze", *(str(CALLS / f"{n}.8k.wav") for n in names),
                    "--script", "b2b_outbound", "--json", "--transcripts", str(kept), cache=cache_dir)  # fmt: skip
    assert result.returncode == 0, result.stderr
    reports = dict(zip(names, map(json.loads, result.stdout.splitlines()), strict=True))

    def codes(name: str) -> dict[str, float]:
        return {m["code"]: m["start"] for m in reports[name]["mistakes"]}

    quiet = reports["lost_quiet_manager"]["metrics"]
    assert quiet["manager_level_dbfs"] < quiet["client_level_dbfs"] - 15 and "quiet_voice" in codes("lost_quiet_manager")
    assert 4 < codes("lost_monologue")["long_monologue"] < 8  # the pitch starts after the client's hello
    interruptions = [m["start"] for m in reports["lost_interrupting"]["mistakes"] if m["code"] == "interrupted_client"]
    assert len(interruptions) == 2 and all(5 < t < 20 for t in interruptions)
    assert [f["phrase"] for f in reports["lost_forbidden"]["forbidden"]] == ["that's not my problem"]
    good = reports["won_price_handled"]
    assert good["score"] >= 85
    [price] = good["objections"]
    assert price["type"] == "price" and price["handled"] and 28 < price["start"] < 31
    greeting = next(c for c in good["checkpoints"] if c["id"] == "greeting")
    assert greeting["passed"] and greeting["evidence"][0]["start"] < 1.0
    assert [u["speaker"] for u in good["transcript"]["utterances"][:2]] == ["manager", "client"]


@pytest.mark.parametrize("name", ["won_price_handled"])
def test_readable_report(name: str, cache_dir: Path, kept: Path) -> None:
    result = callqa("analyze", str(CALLS / f"{name}.8k.wav"), "--script", "b2b_outbound", "--transcripts",
                    str(kept), cache=cache_dir)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "score " in result.stdout and "Checkpoints:" in result.stdout
    assert "ok   Greeting  [00:00] Good morning" in result.stdout
    assert re.search(r"\] Price( \(unsure, \d+%\))?: ", result.stdout) and "handled with acknowledge" in result.stdout
