"""Settings from defaults, the config file and CALLQA_* variables; bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from callqa.errors import InputError
from callqa.settings import Settings

CONFIG = """
[callqa]
engine = "openai-whisper"
max_duration = 600

[[source]]
match = "*/office-b/*"
manager_channel = "right"
"""


def test_defaults_without_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"HOME": str(tmp_path)})
    assert settings.engine == "faster-whisper" and settings.model is None
    assert settings.manager_channel_for("/calls/a.wav") == "left"
    assert settings.max_duration == 14400


def test_config_file_then_environment(tmp_path: Path) -> None:
    config = tmp_path / "callqa.toml"
    config.write_text(CONFIG)
    settings = Settings.from_env({"CALLQA_CONFIG": str(config), "CALLQA_MAX_DURATION": "90"})
    assert settings.engine == "openai-whisper"  # from the file
    assert settings.max_duration == 90  # the variable wins over the file
    assert settings.manager_channel_for("/rec/office-b/call.wav") == "right"
    assert settings.manager_channel_for("/rec/office-a/call.wav") == "left"


@pytest.mark.parametrize(
    ("env", "text", "message"),
    [
        ({"CALLQA_ENGINE": "whisperx"}, "", "CALLQA_ENGINE='whisperx': expected one of"),
        ({"CALLQA_MAX_DURATION": "soon"}, "", "CALLQA_MAX_DURATION='soon': expected a number"),
        ({"CALLQA_MONO_VOICES": "three"}, "", "CALLQA_MONO_VOICES='three': expected one of auto, two"),
        ({"CALLQA_LANGUAGE": "Russian"}, "", "CALLQA_LANGUAGE='Russian': expected a language code such as en or ru"),
        ({}, "[callqa]\nengin = 'x'\n", "unknown setting callqa.engin"),
        ({}, "[[source]]\nmatch = '*'\nmanager_channel = 'middle'\n", "source #1 needs"),
        ({}, "[callqa\n", "not valid TOML"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, env: dict[str, str], text: str, message: str) -> None:
    if text:
        (tmp_path / "callqa.toml").write_text(text)
        env = {**env, "CALLQA_CONFIG": str(tmp_path / "callqa.toml")}
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        Settings.from_env(env)


def test_a_bad_setting_is_one_line_even_for_help() -> None:
    """``callqa --help`` loads every command's module, and the workers' app reads the settings
    as it loads: the wrong one is named, without a traceback."""
    import os

    from conftest import run_callqa

    for args in (["--help"], ["calls"], ["user", "list"]):
        result = run_callqa({**os.environ, "CALLQA_DEVICE": "gpu"}, *args)
        assert (result.returncode, result.stderr) == (2, "callqa: CALLQA_DEVICE='gpu': expected one of auto, cpu, cuda\n")
