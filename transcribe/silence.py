"""Silencing stretches of a recording: the redacted copy a reviewer plays instead of the original.

    seconds = silence("call.mp3", "call.redacted.wav", [(12.4, 15.1)])

The copy is a WAV with the channels kept: 8 kHz mu-law for telephone recordings (a source at
8 kHz or less, as PBXs record), so it is no bigger than the original; 16 kHz 16-bit PCM for
anything else. Every channel is silenced, since one side's voice leaks into the other's on many
telephone lines.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.audio.stream import AudioStream

from transcribe.audio import SAMPLE_RATE, probe_audio, stream_audio

TELEPHONE_RATE = 8000


def silence(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    spans: Sequence[tuple[float, float]],
    *,
    max_duration: float | None = None,
) -> float:
    """Write ``source`` to ``target`` with the ``spans`` (seconds) silenced; the seconds silenced.

    Written to a partial file first, so ``target`` is either whole or absent. Raises AudioError
    (naming the file) for a recording that cannot be decoded.
    """
    info = probe_audio(source)
    telephone = info.sample_rate <= TELEPHONE_RATE
    codec, rate = ("pcm_mulaw", TELEPHONE_RATE) if telephone else ("pcm_s16le", SAMPLE_RATE)
    layout = "mono" if info.channels == 1 else "stereo"  # as decoded: more channels come as two
    target = Path(target)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    silenced, offset = 0, 0
    try:
        with av.open(str(partial), "w", format="wav") as out:
            stream = cast(AudioStream, out.add_stream(codec, rate=rate, layout=layout))
            resampler = av.AudioResampler(
                format=stream.codec_context.format.name, layout=layout, rate=rate
            )
            for block in stream_audio(source, max_duration=max_duration):
                block = block.copy()
                for start, end in spans:
                    a = max(0, int(start * SAMPLE_RATE) - offset)
                    b = min(block.shape[1], int(np.ceil(end * SAMPLE_RATE)) - offset)
                    if a < b:
                        block[:, a:b] = 0.0
                        silenced += b - a
                offset += block.shape[1]
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(np.clip(block, -1.0, 1.0)), format="fltp", layout=layout
                )
                frame.sample_rate = SAMPLE_RATE
                for piece in resampler.resample(frame):
                    out.mux(stream.encode(piece))
            for piece in resampler.resample(None):
                out.mux(stream.encode(piece))
            out.mux(stream.encode(None))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return silenced / SAMPLE_RATE
