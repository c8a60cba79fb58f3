"""From a recording to a speaker-attributed Transcript.

Stereo calls keep one side per channel. The speech of both channels is laid
end to end in the order it was spoken (``transcribe.speech``) and recognised
in one pass, so Whisper hears the conversation with both sides' context; each
word then goes back to its channel at its real time, and each turn's edges
are set by its channel's loudness, so interruptions and overlaps keep their
true times. Mono calls (and stereo files whose two channels are the same) are
diarized into two voices. The recording is decoded block by block, so an
hour-long call never sits in memory whole.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from callqa.errors import AudioError, CallqaError, ModelError
from transcribe.audio import SAMPLE_RATE, SILENCE_PEAK, is_silent, stream_audio
from transcribe.diarize import SpeakerEncoder, VoiceWindows, label_words, merge_windows
from transcribe.engines.base import Engine, Recognition, RecognitionOptions, Segment
from transcribe.recognisers import Engines, Only, spoken_language
from transcribe.roles import guess_manager
from transcribe.speech import Packed, pack_speech, speech_probabilities
from transcribe.transcript import ROLES, RoleMethod, Transcript, Utterance, Word

ManagerChannel = Literal["left", "right", "auto"]


@dataclass(frozen=True)
class TranscribeOptions:
    """How to turn a recording into a Transcript. Override with ``dataclasses.replace``."""

    # Options passed to the Whisper engine.
    recognition: RecognitionOptions = field(default_factory=RecognitionOptions)
    # Which stereo channel carries the manager; "auto" decides from what each side says.
    manager_channel: ManagerChannel = "left"
    # Recordings longer than this many seconds are refused; None accepts any length.
    max_duration: float | None = 4 * 3600.0
    # Decode and recognise this many seconds at a time. Memory grows with it (peak on a
    # 20-minute stereo call with tiny.en: 482 MB at 120 s, 775 MB at 300 s, 1131 MB at 600 s).
    block_seconds: float = 120.0
    # A pause this long inside one side's speech starts a new utterance.
    turn_gap: float = 1.0
    # The language calls are expected in (the script's): kept unless Whisper is sure the speech
    # is in another (``recognisers.spoken_language``). Only used when ``recognition.language``
    # is None (told from the speech).
    expected_language: str = "en"
    # A mono recording is split into two voices even where the diarizer would hear one (a
    # reviewer heard a manager and a client where it heard a monologue).
    two_voices: bool = False


def transcribe_file(
    path: str | os.PathLike[str],
    engine: Engine | Engines,
    options: TranscribeOptions = TranscribeOptions(),
    *,
    encoder: SpeakerEncoder | None = None,
) -> Transcript:
    """Transcribe one recording. ``encoder`` diarizes mono calls; without it one voice is assumed.

    ``engine``: one engine for every call, or ``Recognisers``, which picks the model
    for the language told from the call's first speech (``transcribe.recognisers``).
    Raises AudioError (naming the file) for a recording that cannot be used.
    """
    steps = _transcribing(os.fspath(path), engine, options, encoder)
    try:
        asked = next(steps)
        while True:
            asked = steps.send(asked.engine.recognize(asked.audio, asked.options))
    except StopIteration as done:
        transcript: Transcript = done.value
        return transcript


def transcribe_files(
    paths: Sequence[str | os.PathLike[str]],
    engine: Engine | Engines,
    options: TranscribeOptions | Sequence[TranscribeOptions] = TranscribeOptions(),
    *,
    encoder: SpeakerEncoder | None = None,
    batch_size: int = 8,
) -> list[Transcript | CallqaError]:
    """Transcribe several recordings at once, each as ``transcribe_file`` would: where the
    engine can (``recognize_many``: faster-whisper), the calls' speech is recognised side by
    side, ``batch_size`` calls' windows as one batch, each call with the very words it gets
    alone (recognition 1.3-1.6x as fast on 2 cores: ``bench/batched_decoding.py``). Each recording's transcript, or the error that stopped it
    (naming the file); one bad recording does not stop the others. ``options``: for all, or
    one per recording. All of them are open at once, a block of each in memory: give a
    worker's handful, not a day's folder."""
    each = [options] * len(paths) if isinstance(options, TranscribeOptions) else list(options)
    results: list[Transcript | CallqaError | None] = [None] * len(paths)
    steps = {i: _transcribing(os.fspath(p), engine, o, encoder) for i, (p, o) in enumerate(zip(paths, each, strict=True))}
    asked: dict[int, _Asked] = {}

    def advance(i: int, answer: Recognition | None) -> None:
        try:
            asked[i] = steps[i].send(answer) if answer is not None else next(steps[i])
        except StopIteration as done:
            results[i] = done.value
        except CallqaError as error:
            results[i] = error

    for i in steps:
        advance(i, None)
    while asked:
        first = asked[min(asked)]
        group = [i for i, a in asked.items() if a.engine is first.engine and a.options == first.options]
        batched = getattr(first.engine, "recognize_many", None)
        if batched is not None:
            answers = batched([asked[i].audio for i in group], first.options, batch_size)
        else:
            answers = [first.engine.recognize(asked[i].audio, first.options) for i in group]
        for i, answer in zip(group, answers, strict=True):
            del asked[i]
            advance(i, answer)
    return [r for r in results if r is not None]


@dataclass(frozen=True)
class _Asked:
    """What a transcription needs recognised next: packed speech, by which engine, how."""

    engine: Engine
    audio: np.ndarray
    options: RecognitionOptions


def _transcribing(
    name: str, engine: Engine | Engines, options: TranscribeOptions, encoder: SpeakerEncoder | None
) -> Generator[_Asked, Recognition, Transcript]:
    """One recording's transcription, which hands each block's speech out to be recognised
    (``_Asked``) and takes the recognition back."""
    engines = engine if isinstance(engine, Engines) else Only(engine)
    recognition = options.recognition
    chosen = engines.for_language(recognition.language) if recognition.language else None
    sounded_like: str | None = None  # told from the speech, where Whisper was unsure of it
    stereo: bool | None = None
    words: dict[int, list[Word]] = {0: [], 1: []}
    windows: list[VoiceWindows] = []
    samples = 0
    audible = False
    blocks = stream_audio(name, block_seconds=options.block_seconds, max_duration=options.max_duration)
    # The voices of a mono block are embedded beside its recognition, in a thread of their own:
    # Whisper's decoding loop leaves the cores idle part of the time, and the encoders fill it.
    with ThreadPoolExecutor(1, thread_name_prefix="voices") as beside:
        for block in blocks:
            offset = samples / SAMPLE_RATE
            samples += block.shape[1]
            if is_silent(block):
                continue
            audible = True
            if stereo is None:
                stereo = block.shape[0] == 2 and not same_channels(block)
            channels = [block[0], block[1]] if stereo else [block.mean(axis=0)]
            # Silero VAD once per channel: recognition and the diarizer each read its probabilities.
            speech = [speech_probabilities(c) if recognition.vad else None for c in channels]
            packed = pack_speech(channels, vad=recognition.vad, probabilities=speech)
            if chosen is None:
                language, sounded_like = spoken_language(engines.detector(), packed.audio, options.expected_language)
                recognition = replace(recognition, language=language)
                chosen = _engine_for(engines, language, name)
            # After the engine is loaded: the diarizer's thread sets PyTorch's count to one
            # (``diarize.one_thread``), which a PyTorch engine loading meanwhile would take as its own.
            voices = beside.submit(encoder.embed, channels[0], offset, speech[0]) if not stereo and encoder is not None else None
            if len(packed.audio):
                result = yield _Asked(chosen, packed.audio, replace(recognition, vad=False))
                for channel, said in _placed(result, packed, channels, options.turn_gap).items():
                    words[channel] += [replace(w, start=w.start + offset, end=w.end + offset) for w in said]
            if voices is not None:
                windows.append(voices.result())
    if not audible or chosen is None:
        raise AudioError(name, "the recording is silent")
    if stereo:
        utterances, confidence, method = _by_channel(words, options)
    else:
        pool = None if options.two_voices else getattr(encoder, "pool_runs", None)
        utterances, confidence, method = _by_voice(words[0], windows, options.turn_gap, pool)
    return Transcript(
        utterances=tuple(sorted(utterances, key=lambda u: (u.start, u.channel))),
        language=recognition.language or "en",
        duration=round(samples / SAMPLE_RATE, 3),
        engine=chosen.name,
        model=chosen.model,
        role_confidence=confidence,
        role_method=method,
        source=name,
        sounded_like=sounded_like,
    )


def _engine_for(engines: Engines, language: str, name: str) -> Engine:
    """The engine for a language told from the speech; a model that cannot hear it is refused."""
    try:
        return engines.for_language(language)
    except ModelError as error:
        raise AudioError(
            name,
            f"the speech is in {language!r} (told from its first 30 s): {error}; or give "
            "--language en to transcribe it as English anyway",
        ) from None


def _placed(
    result: Recognition, packed: Packed, channels: Sequence[np.ndarray], turn_gap: float
) -> dict[int, list[Word]]:
    """The words said on each channel of one block, in time order, times from its start."""
    found: dict[int, list[Word]] = {0: [], 1: []}
    for word in (w for segment in result.segments for w in _words_of(segment)):
        channel, placed = packed.place(word)
        found[channel].append(placed)
    for channel, said in found.items():
        said.sort(key=lambda w: w.start)
        if len(channels) == 2:
            found[channel] = snap_edges(said, channels[channel], turn_gap)
    return found


def same_channels(block: np.ndarray) -> bool:
    """True for a mono mix saved as stereo: the channels differ by less than -26 dB."""
    left, right = block[0], block[1]
    level = float(np.sqrt(np.mean(np.square((left + right) / 2))))
    difference = float(np.sqrt(np.mean(np.square(left - right))))
    return difference <= 0.05 * level


def snap_edges(words: list[Word], audio: np.ndarray, turn_gap: float) -> list[Word]:
    """Move each turn's first start and last end to where its channel's sound begins and ends.

    Whisper's word times are often 0.1-0.3 s off at the edges of speech, and
    the analysis measures interruptions and response times from them. On a
    stereo call each channel holds one side only, so its own loudness shows
    where a turn really starts and stops (within half a second of Whisper's guess).
    """
    hop = SAMPLE_RATE // 100
    frames = len(audio) // hop
    if not words or frames == 0:
        return words
    level = np.sqrt(np.mean(np.square(audio[: frames * hop].reshape(frames, hop)), axis=1))
    loud = level > max(SILENCE_PEAK, 0.03 * float(np.percentile(level, 95)))
    out = list(words)
    for i, word in enumerate(out):
        previous_end = out[i - 1].end if i else 0.0
        next_start = out[i + 1].start if i + 1 < len(out) else frames / 100
        start, end = word.start, word.end
        if word.start - previous_end >= turn_gap or i == 0:
            start = _edge(loud, word.start, max(previous_end, word.start - 0.5), word.start + 0.5, -1)
        if next_start - word.end >= turn_gap or i + 1 == len(out):
            end = _edge(loud, word.end, min(next_start, word.end + 0.5), word.end - 0.5, +1)
        out[i] = replace(word, start=start, end=max(end, start + 0.02))
    return out


def _edge(loud: np.ndarray, time: float, outer: float, inner: float, step: int) -> float:
    """From ``time``, walk outward (``step``) while loud, up to ``outer``; or inward while quiet, up to ``inner``."""
    last = len(loud) - 1
    frame = min(max(round(time * 100), 0), last)
    if loud[frame]:
        stop = min(max(round(outer * 100), 0), last)
        while (stop - frame) * step > 0 and loud[frame + step]:
            frame += step
    else:
        stop = min(max(round(inner * 100), 0), last)
        while (frame - stop) * step > 0 and not loud[frame]:
            frame -= step
    return (frame + (step > 0)) / 100


def _by_channel(
    words: dict[int, list[Word]], options: TranscribeOptions
) -> tuple[list[Utterance], float, RoleMethod]:
    pieces = [
        (channel, piece)
        for channel, said in words.items()
        for _, piece in _group(sorted(said, key=lambda w: w.start), [0] * len(said), options.turn_gap)
    ]
    if options.manager_channel == "auto":
        guess = guess_manager([(c, p[0].start, _text(p)) for c, p in pieces])
        manager, confidence = guess.manager, guess.confidence
    else:
        manager, confidence = (0 if options.manager_channel == "left" else 1), 1.0
    utterances = [
        _utterance("manager" if channel == manager else "client", channel, piece)
        for channel, piece in pieces
    ]
    return utterances, confidence, "channel"


def _by_voice(
    words: list[Word], windows: list[VoiceWindows], turn_gap: float, pool: Callable[[np.ndarray], np.ndarray] | None
) -> tuple[list[Utterance], float, RoleMethod]:
    """Utterances of a mono recording by voice; ``pool`` (the encoder's ``pool_runs``, where it
    has one) lets ``label_words`` find a recording of one voice."""
    if not words:
        return [], 0.5, "single-speaker"
    words = sorted(words, key=lambda w: w.start)
    merged = merge_windows(windows)
    labels = label_words(merged, [(w.start, w.end) for w in words], pool=pool)
    if labels.voices == 1:
        turns = _group(words, [0] * len(words), turn_gap)
        return [_utterance("manager", 0, t) for _, t in turns], 0.5, "single-speaker"
    turns = _group(words, list(labels.labels), turn_gap)
    guess = guess_manager([(voice, t[0].start, _text(t)) for voice, t in turns])
    roles = {guess.manager: ROLES[0], 1 - guess.manager: ROLES[1]}
    utterances = _overlapped([_utterance(roles[voice], 0, t) for voice, t in turns], merged.overlaps)
    return utterances, guess.confidence, "diarization"


REACH = 0.5  # seconds: an overlap this near a change of speaker is taken as theirs


def _overlapped(utterances: list[Utterance], overlaps: np.ndarray) -> list[Utterance]:
    """Where two spoke at once across a change of speaker (``overlaps``: start and end of each
    stretch, ``transcribe.overlap``), the two turns overlap as they did: the one who came in
    starts where the overlap starts, the one talked over ends where it ends. Whisper writes
    one voice at a time, so without this no turn of a mono call would ever overlap another."""
    out = list(utterances)  # in time order
    for i in range(1, len(out)):
        before, after = out[i - 1], out[i]
        if before.speaker == after.speaker:
            continue
        near = [(a, b) for a, b in overlaps.tolist()
                if before.start <= a < after.start + REACH and b > before.end - REACH and a < after.end]  # fmt: skip
        if near:
            start, end = min(a for a, _ in near), max(b for _, b in near)
            out[i] = replace(after, start=round(min(after.start, start), 3))
            out[i - 1] = replace(before, end=round(min(max(before.end, end), after.end), 3))
    return out


def _words_of(segment: Segment) -> tuple[Word, ...]:
    """A segment's words; a segment recognised without word times counts as one word."""
    if segment.words:
        return segment.words
    return (Word(segment.text, segment.start, segment.end, float(np.exp(segment.avg_logprob))),)


def _group(
    words: Sequence[Word], labels: Sequence[int], turn_gap: float
) -> list[tuple[int, tuple[Word, ...]]]:
    """Consecutive words of one voice, split at changes of voice and at long pauses."""
    turns: list[tuple[int, list[Word]]] = []
    for word, label in zip(words, labels):
        if turns and turns[-1][0] == label and word.start - turns[-1][1][-1].end < turn_gap:
            turns[-1][1].append(word)
        else:
            turns.append((label, [word]))
    return [(label, tuple(ws)) for label, ws in turns]


def _text(words: Sequence[Word]) -> str:
    return " ".join(w.word for w in words if w.word)


def _utterance(speaker: str, channel: int, words: tuple[Word, ...]) -> Utterance:
    return Utterance(
        speaker=ROLES[0] if speaker == "manager" else ROLES[1],
        channel=channel,
        start=round(words[0].start, 3),
        end=round(words[-1].end, 3),
        text=_text(words),
        words=tuple(replace(w, start=round(w.start, 3), end=round(w.end, 3),
                            probability=round(w.probability, 4)) for w in words),
    )
