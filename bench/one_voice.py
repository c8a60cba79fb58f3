"""One voice or two: how far apart the diarizer's two k-means halves are, on recordings of one
real voice, of two real voices, and of the synthetic voices of the development set.

    python bench/one_voice.py [--pyannote pyannote_audio-4.0.7-py3-none-any.whl] [--devset 3]

A stopping rule would call a recording one voice when its halves are close. Per recording, with
the windows the diarizer embeds (CAM++ and Resemblyzer joined, ``transcribe.diarize``) split
by k-means into two halves as the diarizer splits them:

- the cosine of the two halves' centres, in CAM++'s and in Resemblyzer's part of the windows;
- the silhouette of the split (cosine), how much nearer each window is to its own half;
- the gain in BIC per window of two Gaussians over one (diagonal, on 8 principal components);
- how far CAM++ and Resemblyzer, each split by k-means on its own, agree on the halves (adjusted
  Rand index): two voices should be split the same way by both, one voice along whatever each
  encoder happens to hear.

One voice: JFK and the Harvard reader (``shared/data/speech``), each speaker of the pyannote
sample cut out alone, and each channel of development-set calls. Two voices: the pyannote
sample, mixes of two real recordings, the test dialogues and the development set's calls mixed
to mono.
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
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture

from transcribe.audio import stream_audio
from transcribe.diarize import CamPlusEncoder, ResemblyzerEncoder, stretches_of


def telephone(audio: np.ndarray) -> np.ndarray:
    """16 kHz audio through the telephone's 8 kHz and back, as the pipeline hears an 8 kHz call."""
    return resample_poly(resample_poly(audio, 1, 2), 2, 1).astype(np.float32)


def channels(path: Path) -> np.ndarray:
    return np.concatenate(list(stream_audio(str(path), block_seconds=3600.0)), axis=1).astype(np.float32)


def recordings(wheel: Path | None, per_folder: int) -> list[tuple[str, int, np.ndarray]]:
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
    for name in ("outbound_en", "inbound_en"):  # the test dialogues, espeak-ng voices
        found.append((f"test dialogue {name} mono", 2, read_mono(ROOT / "tests" / "fixtures" / "audio" / f"{name}.mono.wav")))
    devset = SPEECH.parent / "devset"
    for folder in sorted(p for p in devset.iterdir() if p.is_dir() and p.name != "packs"):
        for path in sorted(folder.glob("*.stereo.flac"))[:per_folder]:
            call = f"{folder.name}/{path.name.split('.')[0]}"
            both = channels(path)
            found += [(f"{call} mono", 2, both.mean(axis=0)), (f"{call} manager", 1, both[0]),
                      (f"{call} client", 1, both[1])]  # fmt: skip
    return found


def halves(audio: np.ndarray, campplus: CamPlusEncoder, resemblyzer: ResemblyzerEncoder) -> tuple[float, ...] | None:
    """(CAM++ cosine, Resemblyzer cosine, silhouette, BIC gain per window, agreement) of the two halves."""
    spans = stretches_of(audio)
    fine, other = campplus.embed_spans(audio, 0.0, spans), resemblyzer.embed_spans(audio, 0.0, spans)
    if len(fine.centres) < 8 or not len(other.centres):
        return None
    nearest = np.argmin(np.abs(fine.centres[:, None] - other.centres[None, :]), axis=1)
    parts = (fine.embeddings, other.embeddings[nearest])
    joined = np.concatenate(parts, axis=1) / np.sqrt(2)
    labels = KMeans(n_clusters=2, n_init=10, random_state=0).fit(joined).labels_
    cosines = []
    for part in parts:
        centres = np.stack([part[labels == k].mean(axis=0) for k in (0, 1)])
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        cosines.append(float(centres[0] @ centres[1]))
    reduced = PCA(n_components=8, random_state=0).fit_transform(joined)
    one, two = (GaussianMixture(k, covariance_type="diag", n_init=3, random_state=0).fit(reduced) for k in (1, 2))
    gain = (one.bic(reduced) - two.bic(reduced)) / len(reduced)
    each = [KMeans(n_clusters=2, n_init=10, random_state=0).fit(part).labels_ for part in parts]
    agreement = float(adjusted_rand_score(*each))
    return (*cosines, float(silhouette_score(joined, labels, metric="cosine")), gain, agreement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyannote", type=Path, help="the pyannote.audio 4.0.7 wheel (pip download --no-deps)")
    parser.add_argument("--devset", type=int, default=3, help="calls of each development-set folder")
    args = parser.parse_args()
    campplus, resemblyzer = CamPlusEncoder(), ResemblyzerEncoder(windows_per_second=1.0)
    print(f"{'recording':44} {'voices':>6} {'CAM++':>6} {'Resem.':>6} {'silh.':>6} {'BIC':>6} {'agree':>6}")
    for name, voices, audio in recordings(args.pyannote, args.devset):
        found = halves(audio, campplus, resemblyzer)
        shown = " ".join(f"{v:6.2f}" for v in found) if found else "under 8 windows"
        print(f"{name:44} {voices:6d} {shown}", flush=True)


if __name__ == "__main__":
    main()
