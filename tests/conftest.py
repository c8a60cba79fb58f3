"""Shared fixtures: the real bundled Whisper models, loaded once per test session."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "audio"
SPEECH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "speech"
if not SPEECH.is_dir():
    raise RuntimeError(f"the real speech clips belong in {SPEECH}: shared/ beside the checkout")
JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)
HARVARD_TEXT = (
    "A gold ring will please most any girl. The long journey home took a year. She saw a cat "
    "in the neighbor's house. A pink shell was found on the sandy beach. Small children came "
    "to see him. The grass and bushes were wet with dew. The blind man counted his old coins. "
    "A severe storm tore down the barn. She called his name many times. When you hear the "
    "bell, come quickly."
)


def normalise(text: str) -> str:
    text = text.lower().replace("'", "")
    text = re.sub(r"\b200\b", "two hundred", text)
    text = re.sub(r"\b1st\b", "first", text)
    text = re.sub(r"\b10\b", "ten", text)
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))


def reference(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("callqa-cache")


@pytest.fixture(scope="session")
def faster(cache_dir: Path):  # type: ignore[no-untyped-def]
    from transcribe import load_engine

    return load_engine("faster-whisper", cache_dir=cache_dir, device="cpu")


@pytest.fixture(scope="session")
def openai_engine(cache_dir: Path):  # type: ignore[no-untyped-def]
    from transcribe import load_engine

    return load_engine("openai-whisper", cache_dir=cache_dir, device="cpu")


@pytest.fixture(scope="session")
def encoder():  # type: ignore[no-untyped-def]
    from transcribe.diarize import ResemblyzerEncoder

    return ResemblyzerEncoder()
