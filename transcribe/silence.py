"""Silencing stretches of a recording: the redacted copy a reviewer plays instead of the original.

    seconds = silence("call.mp3", "call.redacted.wav", [(12.4, 15.1)])

The copy is 16 kHz 16-bit PCM WAV with the channels kept, whatever the source's format; every
channel is silenced, since one side's voice leaks into the other's on many telephone lines.
"""

from __future__ import annotations

import os
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from transcribe.audio import SAMPLE_RATE, stream_audio


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
    target = Path(target)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    silenced, offset = 0, 0
    try:
        with wave.open(str(partial), "wb") as out:
            for block in stream_audio(source, max_duration=max_duration):
                if offset == 0:
                    out.setnchannels(block.shape[0])
                    out.setsampwidth(2)
                    out.setframerate(SAMPLE_RATE)
                block = block.copy()
                for start, end in spans:
                    a = max(0, int(start * SAMPLE_RATE) - offset)
                    b = min(block.shape[1], int(np.ceil(end * SAMPLE_RATE)) - offset)
                    if a < b:
                        block[:, a:b] = 0.0
                        silenced += b - a
                offset += block.shape[1]
                pcm = (np.clip(block, -1.0, 1.0) * 32767).astype("<i2")
                out.writeframes(pcm.T.tobytes())
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return silenced / SAMPLE_RATE
