"""Writing a Transcript as readable text, plain text, SRT or WebVTT."""

from __future__ import annotations

from transcribe.transcript import Transcript


def render(transcript: Transcript, fmt: str) -> str:
    """The transcript in ``fmt``: text (readable, timed), txt, srt, vtt or json."""
    if fmt == "json":
        return transcript.to_json(indent=1) + "\n"
    if fmt == "srt":
        return "\n".join(
            f"{i}\n{_clock(u.start, ',')} --> {_clock(u.end, ',')}\n{u.speaker.upper()}: {u.text}\n"
            for i, u in enumerate(transcript.utterances, 1)
        )
    if fmt == "vtt":
        cues = "\n".join(
            f"{_clock(u.start, '.')} --> {_clock(u.end, '.')}\n<v {u.speaker.title()}>{u.text}\n"
            for u in transcript.utterances
        )
        return f"WEBVTT\n\n{cues}"
    if fmt == "txt":
        return "".join(f"{u.speaker.upper()}: {u.text}\n" for u in transcript.utterances)
    return "".join(
        f"[{_short(u.start)}] {u.speaker.upper()}: {u.text}\n" for u in transcript.utterances
    )


def _clock(seconds: float, comma: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{comma}{millis:03d}"


def _short(seconds: float) -> str:
    """00:12.4 below an hour, 1:02:03.4 above."""
    tenths = round(seconds * 10)
    minutes, tenths = divmod(tenths, 600)
    hours, minutes = divmod(minutes, 60)
    clock = f"{minutes:02d}:{tenths // 10:02d}.{tenths % 10}"
    return f"{hours}:{clock}" if hours else clock
