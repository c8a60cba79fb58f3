"""Decoding every format a phone system or CRM produces, with PyAV only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, SPEECH, encode, reference

from callqa.errors import AudioError
from transcribe.audio import SAMPLE_RATE, decode_audio, probe_audio, stream_audio

SOURCE = FIXTURES / "outbound_en.stereo.wav"

# (container, codec, extension, sample rate, channels)
FORMATS = [
    ("wav", "pcm_s16le", "wav", 16000, 2),
    ("wav", "pcm_s24le", "wav", 48000, 2),
    ("wav", "pcm_s32le", "wav", 44100, 1),
    ("wav", "pcm_mulaw", "wav", 8000, 2),
    ("wav", "pcm_alaw", "wav", 8000, 1),
    ("mp3", "libmp3lame", "mp3", 22050, 2),
    ("ogg", "libopus", "ogg", 48000, 2),
    ("flac", "flac", "flac", 32000, 1),
    ("ipod", "aac", "m4a", 44100, 2),
]


@pytest.mark.parametrize(("container", "codec", "ext", "rate", "channels"), FORMATS)
def test_decodes_format_to_16k_float_keeping_channels(
    tmp_path: Path, container: str, codec: str, ext: str, rate: int, channels: int
) -> None:
    path = tmp_path / f"call.{ext}"
    encode(path, container, codec, rate, channels)
    original = decode_audio(SOURCE)

    audio = decode_audio(path)

    assert audio.dtype == np.float32
    assert audio.shape[0] == channels
    assert abs(audio.shape[1] - original.shape[1]) / SAMPLE_RATE < 0.1  # codec padding only
    assert probe_audio(path).sample_rate == rate
    if channels == 2:  # the manager's side stays on the left: loud where the reference is
        first_turn = slice(int(1.0 * SAMPLE_RATE), int(4.0 * SAMPLE_RATE))
        assert np.abs(audio[0, first_turn]).mean() > 10 * np.abs(audio[1, first_turn]).mean()


def test_decodes_gsm_wav_and_telephone_8k() -> None:
    gsm = decode_audio(FIXTURES / "outbound_en.gsm.wav")
    assert probe_audio(FIXTURES / "outbound_en.gsm.wav").codec == "gsm_ms"
    assert gsm.shape[0] == 1 and abs(gsm.shape[1] / SAMPLE_RATE - reference("outbound_en")["duration"]) < 0.1
    harvard = decode_audio(SPEECH / "osr_harvard72_8k.wav")
    assert harvard.shape[0] == 1 and abs(harvard.shape[1] / SAMPLE_RATE - 35.55) < 0.05


def test_stream_cuts_blocks_between_turns_and_loses_nothing() -> None:
    whole = decode_audio(SOURCE)
    blocks = list(stream_audio(SOURCE, block_seconds=16))
    assert len(blocks) == 3
    assert all(b.shape[1] <= 16 * SAMPLE_RATE for b in blocks)
    assert np.array_equal(np.concatenate(blocks, axis=1), whole)
    turns = reference("outbound_en")["turns"]
    cuts = np.cumsum([b.shape[1] for b in blocks[:-1]]) / SAMPLE_RATE
    for cut in cuts:  # in a pause of both sides, never inside a word
        assert not any(t["start"] < cut < t["end"] for t in turns), cut


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"this is a text file, not a recording\n", "not a readable audio file"),
        (None, "truncated"),
    ],
)
def test_bad_files_raise_audio_error_naming_the_file(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "call.wav"
    path.write_bytes(SOURCE.read_bytes()[:5000] if content is None else content)
    with pytest.raises(AudioError) as error:
        decode_audio(path)
    assert str(error.value).startswith(str(path))
    assert reason in error.value.reason


def test_missing_file_and_length_limit(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        decode_audio(tmp_path / "nope.mp3")
    with pytest.raises(AudioError, match="longer than the limit of 20 s"):
        decode_audio(SOURCE, max_duration=20)
