"""CTranslate2 Whisper weights -> an openai-whisper checkpoint, so both engines run one model.

CTranslate2's ``model.bin`` (binary version 6) is a flat list of named arrays.
The mapping below undoes the converter's changes: the fused query/key/value
projections are split again, and the key bias, which CTranslate2 stores as
zeros and openai-whisper does not have, is dropped. The result is cached and
is a plain openai-whisper checkpoint: ``whisper.load_model(path)`` opens it too.
It imports PyTorch: only the openai-whisper engine uses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch

from callqa.errors import ModelError

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ct2_model(path: Path) -> dict[str, np.ndarray]:
    """All variables of a CTranslate2 ``model.bin``, aliases resolved."""
    data = memoryview(path.read_bytes())
    offset = 0

    def take(fmt: str) -> Any:
        nonlocal offset
        (value,) = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return value

    def text() -> str:
        nonlocal offset
        size = take("H")
        value = bytes(data[offset : offset + size - 1]).decode()
        offset += size
        return value

    version = take("I")
    if version != 6:
        raise ModelError(f"{path}: CTranslate2 binary version {version} is not supported (6 is)")
    text()  # spec name
    take("I")  # spec revision
    variables: dict[str, np.ndarray] = {}
    for _ in range(take("I")):
        name = text()
        shape = [take("I") for _ in range(take("B"))]
        dtype = _DTYPES.get(take("B"))
        size = take("I")
        if dtype is None:
            raise ModelError(f"{path}: variable {name} has an unsupported type")
        raw = np.frombuffer(data[offset : offset + size], dtype=dtype)
        variables[name] = raw.reshape(shape)
        offset += size
    for _ in range(take("I")):
        alias, target = text(), text()
        variables[alias] = variables[target]
    return variables


def convert_ct2_to_openai(model_dir: Path) -> dict[str, Any]:
    """The openai-whisper checkpoint (``dims`` and ``model_state_dict``) of a CTranslate2 model."""
    v = read_ct2_model(model_dir / "model.bin")
    if "encoder/conv1/weight" not in v:
        raise ModelError(f"{model_dir}: not a Whisper model")
    n_audio = _count_layers(v, "encoder")
    n_text = _count_layers(v, "decoder")
    state: dict[str, np.ndarray] = {
        "encoder.conv1.weight": v["encoder/conv1/weight"],
        "encoder.conv1.bias": v["encoder/conv1/bias"],
        "encoder.conv2.weight": v["encoder/conv2/weight"],
        "encoder.conv2.bias": v["encoder/conv2/bias"],
        "encoder.positional_embedding": v["encoder/position_encodings/encodings"],
        "decoder.token_embedding.weight": v["decoder/embeddings/weight"],
        "decoder.positional_embedding": v["decoder/position_encodings/encodings"],
        **_norm("encoder.ln_post", v, "encoder/layer_norm"),
        **_norm("decoder.ln", v, "decoder/layer_norm"),
    }
    for i in range(n_audio):
        state.update(_block(f"encoder.blocks.{i}", v, f"encoder/layer_{i}", cross=False))
    for i in range(n_text):
        state.update(_block(f"decoder.blocks.{i}", v, f"decoder/layer_{i}", cross=True))
    dims = {
        "n_mels": int(v["encoder/conv1/weight"].shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(v["encoder/position_encodings/encodings"].shape[1]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_audio,
        "n_vocab": int(v["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(v["decoder/position_encodings/encodings"].shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_text,
    }
    config = json.loads((model_dir / "config.json").read_text())
    return {
        "dims": dims,
        "model_state_dict": {k: torch.from_numpy(np.array(a)) for k, a in state.items()},
        "alignment_heads": [list(map(int, pair)) for pair in config.get("alignment_heads", [])],
    }


def cached_openai_checkpoint(model_dir: Path, cache_dir: Path) -> Path:
    """Convert once and keep the checkpoint in ``cache_dir``; later calls reuse it."""
    stat = (model_dir / "model.bin").stat()
    key = f"{model_dir.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    target = cache_dir / f"openai-whisper-{model_dir.name}-{digest}.pt"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    torch.save(convert_ct2_to_openai(model_dir), partial)
    partial.replace(target)  # atomic: workers converting at once never see half a file
    return target


def _count_layers(v: dict[str, np.ndarray], side: str) -> int:
    return len({m.group(0) for name in v if (m := re.match(rf"{side}/layer_\d+/", name))})


def _norm(prefix: str, v: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    return {f"{prefix}.weight": v[f"{name}/gamma"], f"{prefix}.bias": v[f"{name}/beta"]}


def _linear(prefix: str, weight: np.ndarray, bias: np.ndarray | None) -> dict[str, np.ndarray]:
    out = {f"{prefix}.weight": weight}
    if bias is not None:
        out[f"{prefix}.bias"] = bias
    return out


def _block(prefix: str, v: dict[str, np.ndarray], name: str, cross: bool) -> dict[str, np.ndarray]:
    state = _attention(f"{prefix}.attn", v, f"{name}/self_attention/linear")
    state |= _norm(f"{prefix}.attn_ln", v, f"{name}/self_attention/layer_norm")
    if cross:
        state |= _cross_attention(f"{prefix}.cross_attn", v, f"{name}/attention/linear")
        state |= _norm(f"{prefix}.cross_attn_ln", v, f"{name}/attention/layer_norm")
    state |= _linear(f"{prefix}.mlp.0", v[f"{name}/ffn/linear_0/weight"], v[f"{name}/ffn/linear_0/bias"])
    state |= _linear(f"{prefix}.mlp.2", v[f"{name}/ffn/linear_1/weight"], v[f"{name}/ffn/linear_1/bias"])
    state |= _norm(f"{prefix}.mlp_ln", v, f"{name}/ffn/layer_norm")
    return state


def _attention(prefix: str, v: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    q, k, val = np.split(v[f"{name}_0/weight"], 3)
    qb, _, vb = np.split(v[f"{name}_0/bias"], 3)  # the key bias is all zeros
    return (
        _linear(f"{prefix}.query", q, qb)
        | _linear(f"{prefix}.key", k, None)
        | _linear(f"{prefix}.value", val, vb)
        | _linear(f"{prefix}.out", v[f"{name}_1/weight"], v[f"{name}_1/bias"])
    )


def _cross_attention(prefix: str, v: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    k, val = np.split(v[f"{name}_1/weight"], 2)
    _, vb = np.split(v[f"{name}_1/bias"], 2)
    return (
        _linear(f"{prefix}.query", v[f"{name}_0/weight"], v[f"{name}_0/bias"])
        | _linear(f"{prefix}.key", k, None)
        | _linear(f"{prefix}.value", val, vb)
        | _linear(f"{prefix}.out", v[f"{name}_2/weight"], v[f"{name}_2/bias"])
    )
