"""One voice or two: the diarizer's verdict and its cues, on recordings of one real voice, of
two real voices, and of the synthetic voices of the development set.

    python bench/one_voice.py [--pyannote pyannote_audio-4.0.7-py3-none-any.whl] [--devset 2] [--skip 0]

Per recording, with the windows the diarizer embeds (CAM++ and Resemblyzer joined,
``transcribe.diarize.BothEncoders``) split by k-means into two halves as the diarizer splits them:

- the cosine of the two halves' centres, in CAM++'s and in Resemblyzer's part of the windows;
- the silhouette of the split (cosine), how much nearer each window is to its own half;
- the gain in BIC per window of two Gaussians over one (diagonal, on 8 principal components);
- the two cues of the stopping rule (``transcribe.diarize.one_voice``): how far CAM++ and
  Resemblyzer, each splitting the windows on its own, agree (adjusted Rand index), and how much
  more alike one voice's turns are than the two voices' turns (``turns_apart``);
- the voices the diarizer finds, and whether that is right.

One voice: JFK and the Harvard reader (``shared/data/speech``), each speaker of the pyannote
sample cut out alone, Debian's Asterisk prompts (``asterisk-core-sounds-{en,fr,ru,es}-wav``, four
real speakers, two takes of about 60 s each), and each channel of development-set calls. Two
voices: the pyannote sample, mixes of two real recordings, the test dialogues and the
development set's calls mixed to mono. The summary counts the verdicts by kind of recording.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import SPEECH, interleaved, read_mono
from diarization import pyannote_case
from scipy.signal import resample_poly
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture

from transcribe.audio import decode_audio, stream_audio
from transcribe.diarize import (
    APART,
    BothEncoders,
    VoiceWindows,
    label_words,
    one_voice_cues,
    voice_path,
)

PROMPTS = Path("/usr/share/asterisk/sounds")
SPEAKERS = {"en": "en_US_f_Allison", "fr": "fr_CA_f_June", "ru": "ru_RU_f_IvrvoiceRU", "es": "es_MX_f_Allison"}
# es_MX_f_Allison may be the voice of en_US_f_Allison: the two are never mixed
MIXES = (("en", "fr"), ("en", "ru"), ("fr", "ru"), ("ru", "es"), ("fr", "es"))


def telephone(audio: np.ndarray) -> np.ndarray:
    """16 kHz audio through the telephone's 8 kHz and back, as the pipeline hears an 8 kHz call."""
    return resample_poly(resample_poly(audio, 1, 2), 2, 1).astype(np.float32)


def channels(path: Path) -> np.ndarray:
    return np.concatenate(list(stream_audio(str(path), block_seconds=3600.0)), axis=1).astype(np.float32)


def prompts(folder: str, seconds: float, skip: int) -> np.ndarray:
    """About ``seconds`` of one speaker's Asterisk prompts of a second or more, from the
    ``skip``-th on, 0.4 s apart."""
    pieces: list[np.ndarray] = []
    pause = np.zeros(6400, np.float32)
    for path in sorted((PROMPTS / folder).rglob("*.wav"))[skip:]:
        audio = decode_audio(path)[0]
        if len(audio) >= 16000:
            pieces += [audio, pause]
        if sum(map(len, pieces)) >= seconds * 16000:
            break
    return np.concatenate(pieces).astype(np.float32)


def asterisk() -> list[tuple[str, int, np.ndarray]]:
    """Each speaker alone, and mixes of two, in two takes (prompts from the first and the 80th)."""
    found: list[tuple[str, int, np.ndarray]] = []
    if not PROMPTS.is_dir():
        return found
    for take, skip in ((1, 0), (2, 80)):
        voices = {who: prompts(folder, 60, skip) for who, folder in SPEAKERS.items()}
        found += [(f"asterisk {who} alone #{take}, 8 kHz", 1, telephone(a)) for who, a in voices.items()]
        found += [(f"asterisk mix {a}+{b} #{take}, 8 kHz", 2, telephone(interleaved(voices[a], voices[b])[0]))
                  for a, b in MIXES]  # fmt: skip
    return found


def recordings(wheel: Path | None, per_folder: int, skip: int) -> list[tuple[str, int, np.ndarray]]:
    """(name, voices, 16 kHz audio) of each recording measured."""
    jfk, harvard = read_mono(SPEECH / "jfk.flac"), read_mono(SPEECH / "osr_harvard72_8k.wav")
    found = [("jfk, 8 kHz", 1, telephone(jfk)), ("harvard, 8 kHz", 1, harvard)]
    if wheel:
        with tempfile.TemporaryDirectory() as tmp:
            case = pyannote_case(wheel, Path(tmp))
            sample, spans = read_mono(case.audio), case.reference
        pause = np.zeros(8000, np.float32)
        for who in sorted({s for *_, s in spans}):
            alone = np.concatenate([x for a, b, s in spans if s == who for x in (sample[int(a * 16000) : int(b * 16000)], pause)])
            found += [(f"pyannote {who} alone", 1, alone), (f"pyannote {who} alone, 8 kHz", 1, telephone(alone))]
        found += [("pyannote sample", 2, sample), ("pyannote sample, 8 kHz", 2, telephone(sample))]
    stereo = channels(SPEECH / "stereo_diarization.wav")
    for name, a, b in (("jfk + harvard", jfk, harvard), ("harvard + right", harvard, stereo[1]),
                       ("left + right", stereo[0], stereo[1])):  # fmt: skip
        found.append((f"mix {name}, 8 kHz", 2, telephone(interleaved(a, b)[0])))
    found += asterisk()
    for name in ("outbound_en", "inbound_en"):  # the test dialogues, espeak-ng voices
        found.append((f"test dialogue {name} mono", 2, read_mono(ROOT / "tests" / "fixtures" / "audio" / f"{name}.mono.wav")))
    devset = SPEECH.parent / "devset"
    for folder in sorted(p for p in devset.iterdir() if p.is_dir() and p.name != "packs"):
        for path in sorted(folder.glob("*.stereo.flac"))[skip : skip + per_folder]:
            call = f"{folder.name}/{path.name.split('.')[0]}"
            both = channels(path)
            found += [(f"{call} mono", 2, both.mean(axis=0)), (f"{call} manager", 1, both[0]),
                      (f"{call} client", 1, both[1])]  # fmt: skip
    return found


def measured(windows: VoiceWindows, both: BothEncoders) -> tuple[float, ...] | None:
    """(CAM++ cosine, Resemblyzer cosine, silhouette, BIC gain per window, agreement, turns
    apart, voices found) of the two halves."""
    if len(windows.centres) < 8:
        return None
    joined, first = windows.embeddings, windows.parts[0]
    parts = (joined[:, :first], joined[:, first:])
    labels = KMeans(n_clusters=2, n_init=10, random_state=0).fit(joined).labels_
    cosines = []
    for part in parts:
        centres = np.stack([part[labels == k].mean(axis=0) for k in (0, 1)])
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        cosines.append(float(centres[0] @ centres[1]))
    reduced = PCA(n_components=8, random_state=0).fit_transform(joined)
    one, two = (GaussianMixture(k, covariance_type="diag", n_init=3, random_state=0).fit(reduced) for k in (1, 2))
    gain = (one.bic(reduced) - two.bic(reduced)) / len(reduced)
    path = voice_path(windows)
    assert both.pool_runs is not None
    agreement, apart = one_voice_cues(windows, *path, both.pool_runs) if path else (float("nan"), None)
    found = label_words(windows, [(c, c) for c in windows.centres], pool=both.pool_runs).voices
    silhouette = float(silhouette_score(joined, labels, metric="cosine"))
    return (*cosines, silhouette, gain, agreement, float("nan") if apart is None else apart, found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyannote", type=Path, help="the pyannote.audio 4.0.7 wheel (pip download --no-deps)")
    parser.add_argument("--devset", type=int, default=2, help="calls of each development-set folder")
    parser.add_argument("--skip", type=int, default=0, help="development-set calls of each folder left out first")
    args = parser.parse_args()
    both = BothEncoders()
    print(f"{'recording':44} {'voices':>6} {'CAM++':>6} {'Resem.':>6} {'silh.':>6} {'BIC':>6} {'agree':>6} "
          f"{'apart':>6} {'found':>6}")  # fmt: skip
    right: dict[str, list[bool]] = {}
    for name, voices, audio in recordings(args.pyannote, args.devset, args.skip):
        found = measured(both.embed(audio, 0.0), both)
        shown = " ".join(f"{v:6.2f}" for v in found[:-1]) + f" {found[-1]:6.0f}" if found else "under 8 windows"
        print(f"{name:44} {voices:6d} {shown}", flush=True)
        synthetic = "/" in name or name.startswith("test dialogue")
        kind = f"{'synthetic' if synthetic else 'real'}, {'one voice' if voices == 1 else 'two voices'}"
        right.setdefault(kind, []).append(bool(found) and found[-1] == voices)
    print(f"found right (turns apart under {APART} and agreement low: one voice):")
    for kind, each in sorted(right.items()):
        print(f"  {kind:24} {sum(each)} of {len(each)}")


if __name__ == "__main__":
    main()
