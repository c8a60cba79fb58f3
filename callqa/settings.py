"""The one settings object, read from ``CALLQA_*`` environment variables at the edges.

| variable                  | default                      | meaning                                  |
|---------------------------|------------------------------|------------------------------------------|
| CALLQA_CACHE_DIR          | $XDG_CACHE_HOME/callqa       | joined and converted model weights       |
| CALLQA_ENGINE             | faster-whisper               | or openai-whisper                        |
| CALLQA_MODEL              | tiny.en (bundled)            | base (bundled, multilingual), name, path |
| CALLQA_DEVICE             | auto                         | cpu, cuda, or auto                       |
| CALLQA_MAX_DURATION       | 14400                        | seconds; longer recordings are refused   |
| CALLQA_MANAGER_CHANNEL    | left                         | left, right or auto (stereo recordings)  |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from callqa.errors import InputError


@dataclass(frozen=True)
class Settings:
    cache_dir: Path
    engine: str = "faster-whisper"
    model: str | None = None
    device: str = "auto"
    max_duration: float = 4 * 3600.0
    manager_channel: str = "left"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        cache_root = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return cls(
            cache_dir=Path(env.get("CALLQA_CACHE_DIR") or cache_root / "callqa").expanduser(),
            engine=_choice(env, "CALLQA_ENGINE", ("faster-whisper", "openai-whisper"), cls.engine),
            model=env.get("CALLQA_MODEL") or None,
            device=env.get("CALLQA_DEVICE") or cls.device,
            max_duration=_seconds(env, "CALLQA_MAX_DURATION", cls.max_duration),
            manager_channel=_choice(
                env, "CALLQA_MANAGER_CHANNEL", ("left", "right", "auto"), cls.manager_channel
            ),
        )


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise InputError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{name}={raw!r}: expected a number of seconds") from None
    if value <= 0:
        raise InputError(f"{name}={raw!r}: must be positive")
    return value
