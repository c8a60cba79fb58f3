"""Telling a call's language: how much speech the bundled base model needs, and what it costs.

    python bench/language.py [--devset DIR] [--seconds 30,15,10,5]

Before a call is transcribed, the bundled multilingual base tells its language from the first
seconds of its packed speech (both sides, silences left out: ``transcribe.recognisers``). An
English call is kept English while P(en) is at least ``KEEP_EXPECTED``; under it, the call goes
to another model. For each length of speech, printed: the lowest P(en) over every English
recording of the development set (stereo and mono, both renderings: synthetic accents are the
hard case), the highest P(en) and the share told right over recordings in other languages (real
speech: Debian's Asterisk prompts in Russian, French and Spanish, ``apt-get install
asterisk-core-sounds-{ru,fr,es}-wav``, joined into 30-second recordings), and the mean time of
one detection. Shorter than 30 s, the encoder runs over only that many frames. The default,
``transcribe.recognisers.WINDOW``, is the shortest with the same margins as 30 s.

Then, for the default window, when another language wins over the one expected: how sure Whisper
is of the likeliest language in recordings in another language than the one expected (those other
languages' prompts, the Russian test call) against recordings it cannot place (the robotic
espeak-ng Russian test call, expected in Russian). Another language is heard only from
``SURE_OTHER``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from callqa.settings import Settings
from transcribe.audio import SAMPLE_RATE, decode_audio
from transcribe.engines import load_engine
from transcribe.recognisers import KEEP_EXPECTED, SURE_OTHER, WINDOW
from transcribe.speech import pack_speech

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = Path("/usr/share/asterisk/sounds")
OTHERS = {"ru": "ru_RU_f_IvrvoiceRU", "fr": "fr_CA_f_June", "es": "es_MX_f_Allison"}


def english(devset: Path) -> list[tuple[str, np.ndarray]]:
    """Each development-set recording's packed speech."""
    found = []
    for audio in sorted(devset.glob("*/*.flac")):
        samples = decode_audio(audio)
        channels = [samples[0], samples[1]] if samples.shape[0] == 2 else [samples[0]]
        found.append((f"{audio.parent.name}/{audio.name}", pack_speech(channels).audio))
    return found


def others(calls: int) -> list[tuple[str, str, np.ndarray]]:
    """``calls`` recordings of about 30 s per language, each prompts joined with 0.3 s pauses."""
    found = []
    for language, folder in OTHERS.items():
        prompts = sorted((PROMPTS / folder).rglob("*.wav"))
        pause = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)
        pieces: list[np.ndarray] = []
        made = 0
        for prompt in prompts:
            pieces += [decode_audio(prompt)[0], pause]
            if sum(map(len, pieces)) >= 30 * SAMPLE_RATE:
                made += 1
                found.append((language, f"{folder} #{made}", pack_speech([np.concatenate(pieces)]).audio))
                pieces = []
                if made == calls:
                    break
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=ROOT.parent / "shared" / "data" / "devset")
    parser.add_argument("--seconds", default="30,15,10,5")
    parser.add_argument("--calls", type=int, default=8, help="recordings per other language")
    args = parser.parse_args()
    settings = Settings.from_env()
    base = load_engine("faster-whisper", "base", cache_dir=settings.cache_dir, device="cpu")

    def probabilities(speech: np.ndarray, seconds: float) -> tuple[dict[str, float], float]:
        """As ``spoken_language`` asks them: the first ``seconds``, silence after shorter speech."""
        window = speech[: int(seconds * SAMPLE_RATE)]
        window = np.pad(window, (0, int(seconds * SAMPLE_RATE) - len(window)))
        started = time.perf_counter()
        found = base.language_probabilities(window)
        return found, time.perf_counter() - started

    heard = english(args.devset)
    foreign = others(args.calls) if PROMPTS.is_dir() else []
    print(f"{len(heard)} English recordings, {len(foreign)} in other languages; keep English at P(en) >= {KEEP_EXPECTED}")
    print("| seconds | lowest P(en), English | English kept | highest P(en), others | others told right | ms per detection |")
    print("|---|---|---|---|---|---|")
    for seconds in map(float, args.seconds.split(",")):
        times, kept, lowest = [], 0, (1.0, "")
        for name, speech in heard:
            p, took = probabilities(speech, seconds)
            times.append(took)
            kept += p.get("en", 0.0) >= KEEP_EXPECTED
            lowest = min(lowest, (p.get("en", 0.0), name))
        highest, right = (0.0, ""), 0
        for language, name, speech in foreign:
            p, took = probabilities(speech, seconds)
            times.append(took)
            highest = max(highest, (p.get("en", 0.0), name))
            right += p.get("en", 0.0) < KEEP_EXPECTED and max(p, key=lambda k: p[k]) == language
        print(f"| {seconds:g} | {lowest[0]:.3f} ({lowest[1]}) | {kept}/{len(heard)} | {highest[0]:.3f} ({highest[1]}) "
              f"| {right}/{len(foreign)} | {1000 * statistics.mean(times):.0f} |", flush=True)
    another_language(base, foreign)


def another_language(base: object, foreign: list[tuple[str, str, np.ndarray]]) -> None:
    """The likeliest language's probability where the expected one falls under KEEP_EXPECTED."""
    fixtures = ROOT / "tests" / "fixtures" / "audio"
    cases = [(name, "en", speech) for _, name, speech in foreign]
    for name, expected in (("outbound_ru.8k.wav", "en"), ("robot_ru.8k.wav", "ru")):
        samples = decode_audio(fixtures / name)
        cases.append((name, expected, pack_speech([samples[0], samples[-1]]).audio))
    print(f"\nAnother language is heard from P >= {SURE_OTHER}\n")
    print("| recording | expected | P(expected) | likeliest | its P | heard in |")
    print("|---|---|---|---|---|---|")
    for name, expected, speech in cases:
        window = np.pad(speech[:WINDOW], (0, max(0, WINDOW - len(speech))))
        p = base.language_probabilities(window)  # type: ignore[attr-defined]
        likeliest = max(p, key=lambda k: p[k])
        kept = p.get(expected, 0.0) >= KEEP_EXPECTED or p[likeliest] < SURE_OTHER
        print(f"| {name} | {expected} | {p.get(expected, 0.0):.3f} | {likeliest} | {p[likeliest]:.3f} "
              f"| {expected if kept else likeliest} |")


if __name__ == "__main__":
    main()
