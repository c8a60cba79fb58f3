"""The one settings object, read at the edges (command line, API, worker), never at import.

Each setting comes from, in rising order: its default, the config file, a
``CALLQA_*`` environment variable; a command-line flag overrides them all.

| setting         | variable                | default                | meaning                                   |
|-----------------|-------------------------|------------------------|-------------------------------------------|
| cache_dir       | CALLQA_CACHE_DIR        | $XDG_CACHE_HOME/callqa | joined and converted model weights        |
| engine          | CALLQA_ENGINE           | faster-whisper         | or openai-whisper                         |
| model           | CALLQA_MODEL            | tiny.en (bundled)      | base (bundled, multilingual), name, path  |
| language        | CALLQA_LANGUAGE         | (none)                 | the language every call is heard in (en, ru...); none: the script's, unless Whisper is sure of another |
| device          | CALLQA_DEVICE           | auto                   | cpu, cuda or auto                         |
| max_duration    | CALLQA_MAX_DURATION     | 14400                  | seconds; longer recordings are refused    |
| manager_channel | CALLQA_MANAGER_CHANNEL  | left                   | left, right or auto (stereo recordings)   |
| mono_voices     | CALLQA_MONO_VOICES      | auto                   | mono recordings: one voice or two (auto), or always two |
| data_dir        | CALLQA_DATA_DIR         | $XDG_DATA_HOME/callqa  | stored audio, and the SQLite database     |
| audio_store     | CALLQA_AUDIO_STORE      | (none: DATA_DIR/audio) | s3://BUCKET/PREFIX: recordings in an S3-compatible bucket (AWS_* settings) |
| database_url    | CALLQA_DATABASE_URL     | sqlite:///DATA_DIR/callqa.db | or postgresql+psycopg://...         |
| redis_url       | CALLQA_REDIS_URL        | redis://127.0.0.1:6379/0 | Celery broker and result backend        |
| script          | CALLQA_SCRIPT           | (none)                 | script pack for batches without --script  |
| manager_pattern | CALLQA_MANAGER_PATTERN  | (none)                 | regex with (?P<manager>...) on file names |
| task_time_limit | CALLQA_TASK_TIME_LIMIT  | 3600                   | seconds one worker task may run           |
| visibility_timeout | CALLQA_VISIBILITY_TIMEOUT | 7200             | seconds before a dead worker's call is redelivered |
| incoming_dir    | CALLQA_INCOMING_DIR     | (none)                 | folder the beat schedule scans            |
| threads         | CALLQA_THREADS          | 0 (all); workers: 1    | CPU threads per recognition (the encoder's; its decoding loop takes one); when set, the process's numeric pools too |
| scan_interval   | CALLQA_SCAN_INTERVAL    | 300                    | seconds between scans of incoming_dir     |
| redact          | CALLQA_REDACT           | false                  | store and show calls with personal data replaced |
| keep_audio_days | CALLQA_KEEP_AUDIO_DAYS  | 0 (for ever)           | days a recording is kept after the call   |
| keep_transcript_days | CALLQA_KEEP_TRANSCRIPT_DAYS | 0 (for ever)    | days a transcript is kept                 |
| keep_report_days | CALLQA_KEEP_REPORT_DAYS | 0 (for ever)          | days a call's record (reports, reviews) is kept |
| trusted_proxies | CALLQA_TRUSTED_PROXIES  | (none)                 | proxies whose X-Forwarded-For is believed: IPs or networks, comma-separated |

The config file is ``CALLQA_CONFIG``, or ``callqa.toml`` in the working
directory when it exists. Besides the settings above (in a ``[callqa]``
table) it may say, per source of recordings, which channel is the manager's::

    [callqa]
    engine = "faster-whisper"

    [[source]]
    match = "*/office-b/*"      # a glob on the recording's path
    manager_channel = "right"
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callqa.errors import InputError

# The Whisper engines (``transcribe.engines``), named here so that settings can check them.
ENGINES = ("faster-whisper", "openai-whisper")
CHANNELS = ("left", "right", "auto")
_KEYS = (
    "cache_dir", "engine", "model", "language", "device", "max_duration", "manager_channel", "mono_voices",
    "data_dir", "audio_store", "database_url", "redis_url", "script", "manager_pattern",
    "task_time_limit", "visibility_timeout", "incoming_dir", "scan_interval", "threads",
    "redact", "keep_audio_days", "keep_transcript_days", "keep_report_days", "trusted_proxies",
)  # fmt: skip


@dataclass(frozen=True)
class SourceRule:
    match: str  # glob on the recording's path
    manager_channel: str


@dataclass(frozen=True)
class Settings:
    cache_dir: Path
    engine: str = "faster-whisper"
    model: str | None = None
    language: str | None = None  # told to the recogniser, never detected
    device: str = "auto"
    max_duration: float = 4 * 3600.0
    manager_channel: str = "left"
    mono_voices: str = "auto"  # "two": a mono recording is never taken as one voice
    sources: tuple[SourceRule, ...] = ()
    data_dir: Path = Path("callqa-data")
    audio_store: str = ""  # "": the recordings under data_dir; s3://BUCKET/PREFIX: in that bucket
    database_url: str = ""  # empty: the SQLite file in data_dir
    redis_url: str = "redis://127.0.0.1:6379/0"
    script: str | None = None
    manager_pattern: str | None = None
    task_time_limit: float = 3600.0
    visibility_timeout: float = 7200.0
    incoming_dir: Path | None = None
    scan_interval: float = 300.0
    threads: int = 0  # 0: every core (one process); Celery workers default to 1 each
    redact: bool = False  # personal data replaced in what is stored and shown (callqa.privacy)
    keep_audio_days: int = 0  # retention, counted from the call; 0 keeps for ever
    keep_transcript_days: int = 0
    keep_report_days: int = 0  # the whole call: reports, reviews, metadata
    trusted_proxies: str = ""  # "": the client is the peer; X-Forwarded-For is ignored

    @property
    def purges(self) -> bool:
        """Whether any retention is set: something may expire."""
        return bool(self.keep_audio_days or self.keep_transcript_days or self.keep_report_days)

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'callqa.db'}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Settings from the config file and the environment; InputError names a bad value."""
        raw: dict[str, tuple[Any, str]] = {}  # key -> (value, where it was set)
        sources: tuple[SourceRule, ...] = ()
        config = env.get("CALLQA_CONFIG") or (
            "callqa.toml" if Path("callqa.toml").is_file() else ""
        )
        if config:
            table, sources = _read_config(Path(config))
            raw |= {key: (value, f"{config}: {key}") for key, value in table.items()}
        for key in _KEYS:
            if env.get(f"CALLQA_{key.upper()}"):
                raw[key] = (env[f"CALLQA_{key.upper()}"], f"CALLQA_{key.upper()}")
        cache_root = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        data_root = Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        pattern = str(_get(raw, "manager_pattern", "")) or None
        if pattern is not None:
            _check_pattern(pattern, raw["manager_pattern"][1])
        return cls(
            cache_dir=Path(str(_get(raw, "cache_dir", cache_root / "callqa"))).expanduser(),
            engine=_choice(raw, "engine", ENGINES, cls.engine),
            model=str(_get(raw, "model", "")) or None,
            language=_language(raw),
            device=_choice(raw, "device", ("auto", "cpu", "cuda"), cls.device),
            max_duration=_seconds(raw, "max_duration", cls.max_duration),
            manager_channel=_choice(raw, "manager_channel", CHANNELS, cls.manager_channel),
            mono_voices=_choice(raw, "mono_voices", ("auto", "two"), cls.mono_voices),
            sources=sources,
            data_dir=Path(str(_get(raw, "data_dir", data_root / "callqa"))).expanduser(),
            audio_store=_bucket(raw),
            database_url=str(_get(raw, "database_url", "")),
            redis_url=str(_get(raw, "redis_url", cls.redis_url)),
            script=str(_get(raw, "script", "")) or None,
            manager_pattern=pattern,
            task_time_limit=_seconds(raw, "task_time_limit", cls.task_time_limit),
            visibility_timeout=_seconds(raw, "visibility_timeout", cls.visibility_timeout),
            incoming_dir=Path(str(_get(raw, "incoming_dir", "")))
            if _get(raw, "incoming_dir", "")
            else None,
            scan_interval=_seconds(raw, "scan_interval", cls.scan_interval),
            threads=_count(raw, "threads", cls.threads),
            redact=_flag(raw, "redact", cls.redact),
            keep_audio_days=_count(raw, "keep_audio_days", cls.keep_audio_days),
            keep_transcript_days=_count(raw, "keep_transcript_days", cls.keep_transcript_days),
            keep_report_days=_count(raw, "keep_report_days", cls.keep_report_days),
            trusted_proxies=_proxies(raw),
        )

    def manager_channel_for(self, recording: str | os.PathLike[str]) -> str:
        """The manager's channel for a recording: the first source rule it matches, or the default."""
        path = Path(recording).as_posix()
        for rule in self.sources:
            if fnmatch.fnmatch(path, rule.match):
                return rule.manager_channel
        return self.manager_channel


def _language(raw: dict[str, tuple[Any, str]]) -> str | None:
    """A language code as Whisper names them (en, ru, pt...), checked for its form."""
    value, where = raw.get("language", ("", ""))
    code = str(value).strip().lower()
    if code and not re.fullmatch(r"[a-z]{2,3}", code):
        raise InputError(f"{where}={value!r}: expected a language code such as en or ru")
    return code or None


def _proxies(raw: dict[str, tuple[Any, str]]) -> str:
    """The trusted proxies, comma-separated IP addresses or networks, checked."""
    value, where = raw.get("trusted_proxies", ("", ""))
    found = [p.strip() for p in str(value).split(",") if p.strip()]
    for proxy in found:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise InputError(f"{where}: {proxy!r} is not an IP address or network") from None
    return ",".join(found)


def _bucket(raw: dict[str, tuple[Any, str]]) -> str:
    """The recordings' bucket, s3://BUCKET or s3://BUCKET/PREFIX, checked; "" for the data folder."""
    value, where = raw.get("audio_store", ("", ""))
    url = str(value).strip()
    if url and not re.fullmatch(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[^\s]*)?", url):
        raise InputError(f"{where}: {url!r} is not s3://BUCKET or s3://BUCKET/PREFIX (a lower-case bucket name)")
    return url.rstrip("/")


def _read_config(path: Path) -> tuple[dict[str, Any], tuple[SourceRule, ...]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path}: cannot read the config file ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML ({error})") from None
    unknown = set(data) - {"callqa", "source"}
    table = data.get("callqa", {})
    unknown |= {f"callqa.{key}" for key in set(table) - set(_KEYS)}
    if unknown:
        raise InputError(f"{path}: unknown setting {', '.join(sorted(unknown))}")
    rules = []
    for i, rule in enumerate(data.get("source", []), 1):
        if set(rule) != {"match", "manager_channel"} or rule["manager_channel"] not in CHANNELS:
            raise InputError(
                f'{path}: source #{i} needs exactly match = "GLOB" and '
                f"manager_channel = one of {', '.join(CHANNELS)}"
            )
        rules.append(SourceRule(str(rule["match"]), rule["manager_channel"]))
    return table, tuple(rules)


def _get(raw: dict[str, tuple[Any, str]], key: str, default: Any) -> Any:
    return raw[key][0] if key in raw else default


def _choice(
    raw: dict[str, tuple[Any, str]], key: str, allowed: tuple[str, ...], default: str
) -> str:
    value = _get(raw, key, default)
    if value not in allowed:
        raise InputError(f"{raw[key][1]}={value!r}: expected one of {', '.join(allowed)}")
    return str(value)


def _seconds(raw: dict[str, tuple[Any, str]], key: str, default: float) -> float:
    value = _get(raw, key, default)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{raw[key][1]}={value!r}: expected a number of seconds") from None
    if seconds <= 0:
        raise InputError(f"{raw[key][1]}={value!r}: must be positive")
    return seconds


def _check_pattern(pattern: str, where: str) -> None:
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise InputError(f"{where}={pattern!r}: not a valid regular expression ({error})") from None
    if "manager" not in compiled.groupindex:
        raise InputError(f"{where}={pattern!r}: needs a named group (?P<manager>...)")


def _count(raw: dict[str, tuple[Any, str]], key: str, default: int) -> int:
    value = _get(raw, key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(f"{raw[key][1]}={value!r}: expected a whole number") from None
    if number < 0:
        raise InputError(f"{raw[key][1]}={value!r}: must not be negative")
    return number


def _flag(raw: dict[str, tuple[Any, str]], key: str, default: bool) -> bool:
    value = _get(raw, key, default)
    if isinstance(value, bool):
        return value
    words = {"1": True, "true": True, "yes": True, "on": True,
             "0": False, "false": False, "no": False, "off": False}  # fmt: skip
    if str(value).lower() not in words:
        raise InputError(f"{raw[key][1]}={value!r}: expected true or false")
    return words[str(value).lower()]
