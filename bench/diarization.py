"""Diarization benchmark: who said what in mono recordings of real speech.

    python bench/diarization.py [--pyannote pyannote_audio-4.0.7-py3-none-any.whl]

Cases:
- the sample conversation of the pyannote.audio package (two people on the phone,
  short turns), read from its wheel at run time: ``pip download --no-deps
  pyannote.audio==4.0.7`` gives it; left out when not given;
- mixes of two real recordings of different speakers from ``shared/data/speech``,
  their phrases interleaved with known times, at 8 kHz;
- single-speaker recordings, which must come out as one voice.

Reported per case: word-level role attribution (each recognised word against the
reference speaker at its middle, under the better mapping of the two roles to the
two speakers), DER (10 ms frames, no collar, overlap counted), WER where a
reference text exists, the voices found, and the cost of diarization as a share
of the transcription time of the same call (the same call transcribed without
the speaker encoder, best of two runs each).
Targets: attribution >= 0.90 on the pyannote sample and >= 0.95 on the mixes;
single-speaker recordings found as single-speaker; cost <= 25 %.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
import wave
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

Span = tuple[float, float, str]  # start, end, speaker


@dataclass(frozen=True)
class Case:
    name: str
    audio: Path
    reference: list[Span]  # who speaks when; empty for a single-speaker recording
    text: str | None  # the reference words, where known


def read_mono(path: Path) -> np.ndarray:
    from transcribe.audio import SAMPLE_RATE, stream_audio

    blocks = list(stream_audio(str(path), block_seconds=600.0))
    audio = np.concatenate([b.mean(axis=0) for b in blocks]) if blocks else np.zeros(0, np.float32)
    assert SAMPLE_RATE == 16000
    return audio.astype(np.float32)


def write_8k(path: Path, audio: np.ndarray) -> Path:
    """16 kHz float audio as an 8 kHz 16-bit WAV: the telephone's rate."""
    from scipy.signal import resample_poly

    low = np.clip(resample_poly(audio, 1, 2), -1, 1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes((low * 32767).astype("<i2").tobytes())
    return path


def phrases(audio: np.ndarray) -> list[np.ndarray]:
    """The stretches of speech between pauses of 0.3 s."""
    from transcribe.speech import speech_spans

    return [audio[a:b] for a, b in speech_spans(audio, min_silence_ms=300, pad_ms=60)]


def interleaved(a: np.ndarray, b: np.ndarray, gap: float = 0.25) -> tuple[np.ndarray, list[Span]]:
    """The phrases of two recordings taken in turns (A, B, A, B...), ``gap`` seconds apart."""
    pieces: list[np.ndarray] = []
    spans: list[Span] = []
    at = 0.5
    silence = np.zeros(int(gap * 16000), np.float32)
    lead = np.zeros(8000, np.float32)
    for pair in itertools.zip_longest(phrases(a), phrases(b)):
        for speaker, phrase in zip("AB", pair, strict=True):
            if phrase is None:
                continue
            spans.append((at, at + len(phrase) / 16000, speaker))
            pieces += [phrase, silence]
            at += (len(phrase) + len(silence)) / 16000
    return np.concatenate([lead, *pieces, lead]), spans


def pyannote_case(wheel: Path, folder: Path) -> Case:
    with zipfile.ZipFile(wheel) as archive:
        sample = "pyannote/audio/sample/"
        (folder / "sample.wav").write_bytes(archive.read(sample + "sample.wav"))
        rttm = archive.read(sample + "sample.rttm").decode()
        stm = archive.read(sample + "sample.stm").decode()
    spans = [(float(f[3]), float(f[3]) + float(f[4]), f[7]) for f in (line.split() for line in rttm.splitlines()) if f]
    text = " ".join(" ".join(line.split()[5:]) for line in stm.splitlines() if line.strip())
    return Case("pyannote sample (16 kHz, phone)", folder / "sample.wav", spans, text)


def cases(folder: Path, wheel: Path | None) -> list[Case]:
    from conftest import HARVARD_TEXT, JFK_TEXT, SPEECH

    jfk, harvard = read_mono(SPEECH / "jfk.flac"), read_mono(SPEECH / "osr_harvard72_8k.wav")
    from transcribe.audio import stream_audio

    stereo = np.concatenate(list(stream_audio(str(SPEECH / "stereo_diarization.wav"), block_seconds=600.0)), axis=1)
    left, right = stereo[0].astype(np.float32), stereo[1].astype(np.float32)
    found = [pyannote_case(wheel, folder)] if wheel else []
    for name, a, b in (("jfk + harvard", jfk, harvard), ("harvard + jfk", harvard, jfk),
                       ("harvard + stereo right", harvard, right),
                       ("stereo left + right", left, right)):  # fmt: skip
        audio, spans = interleaved(a, b)
        found.append(Case(f"mix 8 kHz: {name}", write_8k(folder / f"{name}.wav", audio), spans, None))
    found += [Case("one voice: jfk (8 kHz)", write_8k(folder / "jfk.wav", jfk), [], JFK_TEXT),
              Case("one voice: harvard (8 kHz)", SPEECH / "osr_harvard72_8k.wav", [], HARVARD_TEXT)]  # fmt: skip
    return found


def speaker_at(reference: list[Span], time: float) -> str | None:
    """The one speaker at ``time``; None in silence or overlap."""
    speaking = {s for a, b, s in reference if a <= time <= b}
    return speaking.pop() if len(speaking) == 1 else None


def attribution(transcript, reference: list[Span]) -> float:  # type: ignore[no-untyped-def]
    """Share of recognised words given the right speaker, under the better mapping of roles."""
    pairs = [(u.speaker, speaker_at(reference, (w.start + w.end) / 2)) for u in transcript.utterances for w in u.words]
    pairs = [(role, who) for role, who in pairs if who is not None]
    speakers = sorted({who for _, who in pairs})
    if not pairs:
        return float("nan")
    best = 0
    for order in itertools.permutations(speakers, len(speakers)):
        mapping = dict(zip(("manager", "client"), order, strict=False))
        best = max(best, sum(mapping.get(role) == who for role, who in pairs))
    return best / len(pairs)


def der(transcript, reference: list[Span], duration: float) -> float:  # type: ignore[no-untyped-def]
    """Diarization error rate over 10 ms frames, no collar, under the better mapping of roles."""
    frames = int(duration * 100) + 1
    speakers = sorted({s for *_, s in reference})
    ref = np.zeros((len(speakers), frames), bool)
    for a, b, s in reference:
        ref[speakers.index(s), int(a * 100) : int(b * 100)] = True
    hyp = np.zeros((2, frames), bool)
    for u in transcript.utterances:
        hyp[0 if u.speaker == "manager" else 1, int(u.start * 100) : int(u.end * 100)] = True
    total = ref.sum()
    best = np.inf
    for order in itertools.permutations(range(2), 2):
        mapped = hyp[list(order)][: len(speakers)]
        n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
        correct = (ref & mapped).sum(axis=0)
        error = np.maximum(n_ref, n_hyp) - correct
        best = min(best, error.sum() / total)
    return float(best)


def timed(path: Path, engines, encoder) -> tuple[object, float]:  # type: ignore[no-untyped-def]
    from transcribe import TranscribeOptions, transcribe_file

    times, result = [], None
    for _ in range(2):
        started = time.perf_counter()
        result = transcribe_file(path, engines, TranscribeOptions(), encoder=encoder)
        times.append(time.perf_counter() - started)
    return result, min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyannote", type=Path, help="the pyannote.audio 4.0.7 wheel (pip download --no-deps)")
    args = parser.parse_args()
    from conftest import wer

    from callqa.settings import Settings
    from transcribe.recognisers import Recognisers

    engines = Recognisers.from_settings(Settings.from_env())
    encoder = engines.diarizer()
    with tempfile.TemporaryDirectory() as tmp:
        found = cases(Path(tmp), args.pyannote)
        timed(found[0].audio, engines, encoder)  # warm-up: models loaded
        print(f"{'case':34} {'attrib':>7} {'DER':>6} {'WER':>6} {'voices':>7} {'diar cost':>9}")
        for case in found:
            transcript, with_voices = timed(case.audio, engines, encoder)
            _, without = timed(case.audio, engines, None)
            voices = 1 if transcript.role_method == "single-speaker" else 2  # type: ignore[attr-defined]
            said = " ".join(u.text for u in transcript.utterances)  # type: ignore[attr-defined]
            shown = [f"{attribution(transcript, case.reference):7.3f}" if case.reference else f"{'':>7}",
                     f"{der(transcript, case.reference, transcript.duration):6.3f}" if case.reference else f"{'':>6}",  # type: ignore[attr-defined]
                     f"{wer(case.text, said):6.3f}" if case.text else f"{'':>6}"]  # fmt: skip
            cost = (with_voices - without) / without
            print(f"{case.name:34} {' '.join(shown)} {voices:7d} {cost:8.0%}")


if __name__ == "__main__":
    main()
