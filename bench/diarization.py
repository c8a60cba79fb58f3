"""Diarization benchmark: who said what in mono recordings of real speech.

    python bench/diarization.py [--pyannote pyannote_audio-4.0.7-py3-none-any.whl]

Cases:
- the sample conversation of the pyannote.audio package (two people on the phone,
  short turns), read from its wheel at run time: ``pip download --no-deps
  pyannote.audio==4.0.7`` gives it; left out when not given;
- mixes of two real recordings of different speakers from ``shared/data/speech``,
  their phrases interleaved with known times, at 8 kHz; and the same with each
  phrase starting 0.5 or 1 s before the other speaker's ends (interruptions);
- single-speaker recordings, which must come out as one voice.

Reported per case: word-level role attribution (each recognised word against the
reference speaker at its middle, under the better mapping of the two roles to the
two speakers), DER (10 ms frames, no collar, overlap counted), WER where a
reference text exists, the voices found, how well the overlap detector's chance
ranks the frames where two speak (ROC AUC, where some do), the interruptions
(overlaps of two speakers of 0.5 s or more) that the transcript's turns
overlap over, of those in the reference, and those it makes up, and the cost
of diarization as a share of the transcription of the same call (the call
transcribed with the speaker encoder against without it, best of five runs
each): in wall time, and in CPU time, what it costs a pool of workers that
keeps every core busy.
Targets: attribution >= 0.90 on the pyannote sample and >= 0.95 on the mixes;
single-speaker recordings found as single-speaker; cost <= 25 % in wall time (the
CPU column is reported beside it: see bench/README.md, "Diarization: what it costs", for why it
stays over 25 %).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]



from conftest import Span, attribution, interleaved, interruptions, overlapped, read_mono, write_8k


@dataclass(frozen=True)
class Case:
    name: str
    audio: Path
    reference: list[Span]  # who speaks when; empty for a single-speaker recording
    text: str | None  # the reference words, where known


def pyannote_case(wheel: Path, folder: Path) -> Case:
    with zipfile.ZipFile(wheel) as archive:
        sample = "pyannote/audio/sample/"
        (folder / "sample.wav").write_bytes(archive.read(sample + "sample.wav"))
        rttm = archive.read(sample + "sample.rttm").decode()
        stm = archive.read(sample + "sample.stm").decode()
    spans = [(float(f[3]), float(f[3]) + float(f[4]), f[7]) for f in (line.split() for line in rttm.splitlines()) if f]
    text = " ".join(" ".join(line.split()[5:]) for line in stm.splitlines() if line.strip())
    return Case("pyannote sample (16 kHz, phone)", folder / "sample.wav", spans, text)


def pyannote_cases(wheel: Path, folder: Path) -> list[Case]:
    """The sample as it is, and at the telephone's 8 kHz."""
    sample = pyannote_case(wheel, folder)
    low = write_8k(folder / "sample.8k.wav", read_mono(sample.audio))
    return [sample, Case("pyannote sample at 8 kHz", low, sample.reference, sample.text)]


def devset_cases(per_folder: int) -> list[Case]:
    """The first calls of each product and rendering of the development set, mixed to mono:
    synthetic voices (espeak-ng, and one Piper voice pitch-shifted per speaker)."""
    import json

    from conftest import SPEECH

    found = []
    for folder in sorted(p for p in (SPEECH.parent / "devset").iterdir() if p.is_dir() and p.name != "packs"):
        for labels in sorted(folder.glob("*.json"))[:per_folder]:
            call = json.loads(labels.read_text())
            spans = [(t["start"], t["end"], t["speaker"]) for t in call["turns"]]
            found.append(Case(f"devset {folder.name}/{call['id']}", labels.with_suffix(".mono.flac"), spans,
                              " ".join(t["text"] for t in call["turns"])))  # fmt: skip
    return found


def cases(folder: Path, wheel: Path | None) -> list[Case]:
    from conftest import HARVARD_TEXT, JFK_TEXT, SPEECH

    jfk, harvard = read_mono(SPEECH / "jfk.flac"), read_mono(SPEECH / "osr_harvard72_8k.wav")
    from transcribe.audio import stream_audio

    stereo = np.concatenate(list(stream_audio(str(SPEECH / "stereo_diarization.wav"), block_seconds=600.0)), axis=1)
    left, right = stereo[0].astype(np.float32), stereo[1].astype(np.float32)
    found = pyannote_cases(wheel, folder) if wheel else []
    for name, a, b in (("jfk + harvard", jfk, harvard), ("harvard + jfk", harvard, jfk),
                       ("harvard + stereo right", harvard, right),
                       ("stereo left + right", left, right)):  # fmt: skip
        audio, spans = interleaved(a, b)
        found.append(Case(f"mix 8 kHz: {name}", write_8k(folder / f"{name}.wav", audio), spans, None))
    for name, a, b in (("jfk + harvard", jfk, harvard), ("harvard + stereo right", harvard, right),
                       ("stereo left + right", left, right)):  # fmt: skip
        for overlap in (0.5, 1.0):
            audio, spans = overlapped(a, b, overlap)
            path = write_8k(folder / f"{name} over {overlap}.wav", audio)
            found.append(Case(f"overlap {overlap} s: {name}", path, spans, None))
    found += [Case("one voice: jfk (8 kHz)", write_8k(folder / "jfk.wav", jfk), [], JFK_TEXT),
              Case("one voice: harvard (8 kHz)", SPEECH / "osr_harvard72_8k.wav", [], HARVARD_TEXT)]  # fmt: skip
    return found


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


REPEATS = 5  # runs with and without the encoder, taken in turns: the best of each (a short clip is noisy)


def timed(path: Path, engines, encoder) -> tuple[object, float, float]:  # type: ignore[no-untyped-def]
    """The transcript with the encoder, and what the encoder adds to the call's transcription: in
    wall time (what one call waits; the encoders run beside recognition) and in CPU time (what a
    pool of busy workers pays), each a share of the time without it. Best of ``REPEATS`` runs
    each, with and without in turns."""
    from transcribe import TranscribeOptions, transcribe_file

    result = transcribe_file(path, engines, TranscribeOptions(), encoder=encoder)
    runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for _, voices in itertools.product(range(REPEATS), (False, True)):
        wall, cpu = time.perf_counter(), time.process_time()
        transcribe_file(path, engines, TranscribeOptions(), encoder=encoder if voices else None)
        runs[voices].append((time.perf_counter() - wall, time.process_time() - cpu))
    (wall0, cpu0), (wall1, cpu1) = (np.min(runs[False], axis=0), np.min(runs[True], axis=0))
    return result, max(0.0, wall1 / wall0 - 1), max(0.0, cpu1 / cpu0 - 1)


def overlap_auc(path: Path, reference: list[Span], model) -> float | None:  # type: ignore[no-untyped-def]
    """How well the overlap detector's chance ranks the frames where two speak (ROC AUC), or
    None where the reference has no overlap."""
    from sklearn.metrics import roc_auc_score

    from transcribe import overlap

    chance, centres = overlap.overlap_chance(model, read_mono(path))
    both = np.array([sum(a <= t <= b for a, b, _ in reference) >= 2 for t in centres])
    return float(roc_auc_score(both, chance)) if both.any() and not both.all() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyannote", type=Path, help="the pyannote.audio 4.0.7 wheel (pip download --no-deps)")
    parser.add_argument("--encoder", choices=["campplus", "resemblyzer", "both"], default="both")
    parser.add_argument("--devset", type=int, default=0, help="also this many synthetic calls of each devset folder")
    args = parser.parse_args()
    from conftest import wer

    from callqa.settings import Settings
    from transcribe import transcribe_file
    from transcribe.recognisers import Recognisers

    engines = Recognisers.from_settings(Settings.from_env())
    from transcribe.diarize import BothEncoders, CamPlusEncoder, ResemblyzerEncoder

    encoder = {"campplus": CamPlusEncoder, "resemblyzer": ResemblyzerEncoder, "both": BothEncoders}[args.encoder]()
    with tempfile.TemporaryDirectory() as tmp:
        found = cases(Path(tmp), args.pyannote) + devset_cases(args.devset)
        transcribe_file(found[0].audio, engines, encoder=encoder)  # warm-up: models loaded
        from transcribe import overlap

        segmentation = overlap.load()
        print(f"{'case':38} {'attrib':>7} {'DER':>6} {'WER':>6} {'voices':>7} {'overlap AUC':>11} {'interrupt':>9} "
              f"{'wall +':>7} {'CPU +':>6}")  # fmt: skip
        for case in found:
            transcript, wall, cpu = timed(case.audio, engines, encoder)
            voices = 1 if transcript.role_method == "single-speaker" else 2  # type: ignore[attr-defined]
            said = " ".join(u.text for u in transcript.utterances)  # type: ignore[attr-defined]
            shown = [f"{attribution(transcript, case.reference):7.3f}" if case.reference else f"{'':>7}",
                     f"{der(transcript, case.reference, transcript.duration):6.3f}" if case.reference else f"{'':>6}",  # type: ignore[attr-defined]
                     f"{wer(case.text, said):6.3f}" if case.text else f"{'':>6}"]  # fmt: skip
            hit, known, false = interruptions(transcript, case.reference) if case.reference else (0, 0, 0)
            cut_in = f"{hit}/{known} +{false}" if case.reference else ""
            auc = overlap_auc(case.audio, case.reference, segmentation)
            found_auc = f"{auc:.3f}" if auc is not None else ""
            print(f"{case.name:38} {' '.join(shown)} {voices:7d} {found_auc:>11} {cut_in:>9} {wall:7.0%} {cpu:6.0%}")


if __name__ == "__main__":
    main()
