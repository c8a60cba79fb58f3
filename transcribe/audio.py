"""Decoding recordings into 16 kHz float32 samples, channels kept.

PyAV bundles FFmpeg's libraries, so WAV (PCM, µ-law, A-law, GSM), MP3,
OGG/Opus, FLAC and M4A/AAC decode without a system ``ffmpeg``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from callqa.errors import AudioError

SAMPLE_RATE = 16000
# Below this peak level (about -66 dBFS) a recording holds nothing audible.
SILENCE_PEAK = 5e-4


# File name endings taken for recordings when scanning folders or accepting uploads.
SUFFIXES = frozenset(
    [
        ".wav",
        ".mp3",
        ".ogg",
        ".opus",
        ".oga",
        ".flac",
        ".m4a",
        ".aac",
        ".wma",
        ".amr",
        ".webm",
        ".gsm",
        ".mp4",
    ]
)


@dataclass(frozen=True)
class AudioInfo:
    """What the container says about a recording, before decoding it."""

    path: str
    container: str  # FFmpeg's format name, e.g. "wav", "mp3", "ogg"
    codec: str  # e.g. "pcm_mulaw", "opus", "aac"
    sample_rate: int  # of the source, before resampling to 16 kHz
    channels: int  # of the source
    duration: float | None  # seconds, from the header; None when unknown


def probe_audio(path: str | os.PathLike[str]) -> AudioInfo:
    """Read a recording's header. Raises AudioError naming the file and the reason."""
    name = _check_file(path)
    with _open(name) as container:
        stream = _audio_stream(name, container)
        return AudioInfo(
            path=name,
            container=container.format.name,
            codec=stream.codec_context.name,
            sample_rate=stream.codec_context.sample_rate or stream.sample_rate,
            channels=stream.codec_context.channels or stream.channels,
            duration=_header_seconds(container),
        )


def decode_audio(path: str | os.PathLike[str], *, max_duration: float | None = None) -> np.ndarray:
    """Decode a whole recording into a float32 array of shape (channels, samples) at 16 kHz.

    Mono stays one channel, stereo stays two; more channels are mixed down to
    stereo. For long recordings prefer ``stream_audio``, which holds one block
    at a time.
    """
    blocks = list(stream_audio(path, max_duration=max_duration))
    return np.concatenate(blocks, axis=1)


def stream_audio(
    path: str | os.PathLike[str],
    *,
    block_seconds: float = 600.0,
    max_duration: float | None = None,
) -> Iterator[np.ndarray]:
    """Decode a recording block by block, each (channels, samples) float32 at 16 kHz.

    Blocks are at most ``block_seconds`` long and are cut at the quietest tenth
    of a second in their last 15 seconds, so that a cut rarely splits a word.
    Raises AudioError for a missing, empty, corrupt or over-long recording.
    """
    name = _check_file(path)
    block = int(block_seconds * SAMPLE_RATE)
    buffered: list[np.ndarray] = []
    pending = 0
    total = 0
    for chunk in _decoded_chunks(name, max_duration):
        total += chunk.shape[1]
        buffered.append(chunk)
        pending += chunk.shape[1]
        while pending >= block:
            audio = np.concatenate(buffered, axis=1)
            cut = _quiet_cut(audio, block)
            yield audio[:, :cut]
            buffered, pending = [audio[:, cut:]], audio.shape[1] - cut
    if total == 0:
        raise AudioError(name, "the recording holds no audio (zero length)")
    if pending:
        yield np.concatenate(buffered, axis=1)


def check_decodable(path: str | os.PathLike[str], *, max_duration: float | None = None) -> float:
    """Decode a whole recording once, keeping nothing: its length in seconds. Raises AudioError
    when it is empty, holds no audio, is truncated or corrupt, or is over ``max_duration``: what
    an upload is checked for before it is stored."""
    return sum(int(block.shape[1]) for block in stream_audio(path, max_duration=max_duration)) / SAMPLE_RATE


def is_silent(samples: np.ndarray) -> bool:
    """True when nothing in ``samples`` rises above the level of digital silence."""
    return samples.size == 0 or float(np.max(np.abs(samples))) < SILENCE_PEAK


def _check_file(path: str | os.PathLike[str]) -> str:
    name = os.fspath(path)
    if not os.path.exists(name):
        raise AudioError(name, "no such file")
    if os.path.isdir(name):
        raise AudioError(name, "is a directory, not a recording")
    if os.path.getsize(name) == 0:
        raise AudioError(name, "the file is empty (0 bytes)")
    _check_riff(name)
    return name


def _check_riff(name: str) -> None:
    """Refuse a WAV file whose data chunk stops short of the size its header declares.

    FFmpeg estimates a WAV's duration from the file's size, so it cannot tell.
    """
    size = os.path.getsize(name)
    with open(name, "rb") as f:
        if f.read(4) != b"RIFF":
            return
        f.seek(12)
        while (header := f.read(8)) and len(header) == 8:
            chunk, length = header[:4], int.from_bytes(header[4:], "little")
            if chunk == b"data":
                available = size - f.tell()
                if length not in (0, 0xFFFFFFFF) and available < 0.9 * length:
                    raise AudioError(
                        name,
                        f"the file is truncated or corrupt: its header declares "
                        f"{length} bytes of audio but only {available} are there",
                    )
                return
            f.seek(length + (length & 1), os.SEEK_CUR)


def _open(name: str) -> Any:
    try:
        return av.open(name, mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as error:
        raise AudioError(name, f"not a readable audio file ({_reason(error)})") from None


def _audio_stream(name: str, container: Any) -> Any:
    if not container.streams.audio:
        raise AudioError(name, "the file has no audio stream")
    stream = container.streams.audio[0]
    if stream.codec_context is None:
        raise AudioError(name, "its audio is in a form no decoder knows (the header may be corrupt)")
    return stream


def _decoded_chunks(name: str, max_duration: float | None) -> Iterator[np.ndarray]:
    with _open(name) as container:
        stream = _audio_stream(name, container)
        announced = _header_seconds(container)
        if max_duration is not None and announced:
            _check_length(name, announced, max_duration)
        layout = "mono" if (stream.codec_context.channels or 1) == 1 else "stereo"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        decoded = 0
        try:
            for frame in _frames(container, stream):
                for out in resampler.resample(frame):
                    decoded += out.samples
                    yield out.to_ndarray().astype(np.float32, copy=False)
                if max_duration is not None:
                    _check_length(name, decoded / SAMPLE_RATE, max_duration)
            for out in resampler.resample(None):
                decoded += out.samples
                yield out.to_ndarray().astype(np.float32, copy=False)
        except av.error.FFmpegError as error:
            raise AudioError(name, f"cannot be decoded ({_reason(error)})") from None
        _check_complete(name, decoded / SAMPLE_RATE, announced)


def _header_seconds(container: Any) -> float | None:
    """The duration the container's header gives (FFmpeg counts in microseconds), if any."""
    return container.duration / 1_000_000 if container.duration else None


def _check_complete(name: str, seconds: float, announced: float | None) -> None:
    """A file whose data stops far short of what its header announces is truncated."""
    if announced and announced > 1.0 and seconds < 0.9 * announced:
        raise AudioError(
            name,
            f"the file is truncated or corrupt: its header announces {announced:.1f} s "
            f"but only {seconds:.1f} s could be decoded",
        )


def _frames(container: Any, stream: Any) -> Iterator[Any]:
    """Decoded frames, skipping single damaged packets as FFmpeg's own tools do."""
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            continue
        for frame in frames:
            frame.pts = None
            yield frame


def _check_length(name: str, seconds: float, limit: float) -> None:
    if seconds > limit:
        raise AudioError(
            name,
            f"the recording is longer than the limit of {limit:.0f} s "
            "(raise it with --max-duration or CALLQA_MAX_DURATION)",
        )


def _quiet_cut(audio: np.ndarray, block: int) -> int:
    """Index of the quietest 0.1 s frame in the last 15 s (at most a quarter) before ``block``."""
    hop = SAMPLE_RATE // 10
    start = block - min(15 * SAMPLE_RATE, block // 4)
    window = audio[:, start:block]
    frames = window.shape[1] // hop
    if frames == 0:
        return block
    energy = np.square(window[:, : frames * hop]).sum(axis=0).reshape(frames, hop).sum(axis=1)
    return start + int(np.argmin(energy)) * hop + hop // 2


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return str(text).strip().rstrip(".")
