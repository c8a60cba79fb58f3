"""Script packs: the bundled one loads; a bad one is refused with the file, the line and the reason."""

from __future__ import annotations

import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from conftest import PATIENCE

from scripts_lib import ScriptError, bundled_packs, load_pack

GOOD = """\
id: mini
title: Minimal pack
language: en
checkpoints:
  - id: greeting
    title: Greeting
    phrases: [hello]
    advice: Say hello.
  - id: next_step
    title: Next step
    patterns: ["meet on *"]
    weight: 2
    advice: Agree a date.
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pack.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_pack_is_valid_and_complete() -> None:
    assert "b2b_outbound" in bundled_packs()
    pack = load_pack("b2b_outbound")
    ids = [c.id for c in pack.checkpoints]
    assert ids[:2] == ["greeting", "introduction"] and "next_step" in ids and "farewell" in ids
    assert {o.id for o in pack.objections} >= {"price", "timing", "existing_supplier", "send_email", "authority"}
    assert next(c for c in pack.checkpoints if c.id == "greeting").within_first == 20
    assert "Brightline Logistics" in pack.product_terms


@pytest.mark.parametrize(
    ("name", "language", "first"),
    [("b2b_outbound", "en", "greeting"), ("inbound_en", "en", "greeting"),
     ("b2b_outbound_ru", "ru", "greeting")],
)
def test_every_bundled_pack_loads(name: str, language: str, first: str) -> None:
    pack = load_pack(name)
    assert pack.id == name and pack.language == language
    assert pack.checkpoints[0].id == first and pack.checkpoints[0].within_first
    assert all(c.advice for c in pack.checkpoints)
    assert len(pack.objections) >= 4 and len(pack.techniques) >= 4 and pack.forbidden


def test_a_trainers_file_loads_with_defaults(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, GOOD))
    assert pack.version == 1 and pack.checkpoints[0].required
    assert pack.checkpoints[1].weight == 2 and pack.checkpoints[0].speaker == "manager"


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (("    weight: 2\n", "    wieght: 2\n"), 12, "checkpoints.1.wieght: unknown key: did you mean 'weight'?"),
        (("    weight: 2\n", "    weight: heavy\n"), 12, "checkpoints.1.weight: Input should be a valid number"),
        (("    advice: Say hello.\n", ""), 5, "checkpoints.0.advice: Field required"),
        (("    phrases: [hello]\n", ""), 5, "checkpoints.0: a checkpoint needs at least one of phrases or patterns"),
        (("id: next_step", "id: greeting"), 4, "checkpoints: id 'greeting' is used more than once"),
        (("language: en", "language: de"), 3, "language: Input should be 'en' or 'ru'"),
        (("phrases: [hello]", "phrases: [hello"), 8, "not valid YAML"),
        # An anchor used many times is expanded wherever the pack is written out again (a draft):
        # 46 KB became 20 MB. A pack writes each phrase out.
        (("    phrases: [hello]\n", "    phrases: &many [hello, hi]\n"), 7, "YAML anchors and aliases"),
        (("    patterns: [\"meet on *\"]\n", "    phrases: *many\n"), 11, "YAML anchors and aliases"),
    ],
)
def test_bad_pack_names_file_line_and_reason(
    tmp_path: Path, edit: tuple[str, str], line: int, message: str
) -> None:
    path = write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(ScriptError) as error:
        load_pack(path)
    assert str(error.value).startswith(f"{path}:{line}: ")
    assert message in str(error.value)


def test_a_character_yaml_refuses_is_a_bad_pack_not_a_crash(tmp_path: Path) -> None:
    """YAML refuses some characters before it reads any node: still the one error of a bad pack."""
    path = write(tmp_path, GOOD.replace("id: mini", "id: mi\x08ni"))
    with pytest.raises(ScriptError, match=r"pack\.yaml: not valid YAML \(unacceptable character #x0008"):
        load_pack(path)


def test_unknown_pack_name_lists_the_bundled_ones() -> None:
    with pytest.raises(ScriptError, match="no such script pack.*b2b_outbound"):
        load_pack("b2b_outbund")


def test_script_check_command(tmp_path: Path) -> None:
    bad = write(tmp_path, GOOD.replace("    weight: 2\n", "    wieght: 2\n"))
    result = subprocess.run(
        [sys.executable, "-m", "cli", "script", "check", "b2b_outbound", str(bad)],
        capture_output=True, text=True, env=dict(os.environ), timeout=PATIENCE, check=False,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.startswith("b2b_outbound: OK (b2b_outbound v1, en, 7 checkpoints")
    assert result.stderr.strip() == f"callqa: {bad}:12: checkpoints.1.wieght: unknown key: did you mean 'weight'?"


def test_every_mistake_in_a_pack_is_named_at_once_with_the_key_that_was_meant(tmp_path: Path) -> None:
    """The mistakes a newcomer makes writing a first pack by hand, all in one run of `script check`,
    in the file's order, each with the key the pack calls it."""
    bad = tmp_path / "first.yaml"
    bad.write_text(
        "id: first\ntitle: A first pack\nlanguage: en\nterms: [Widget]\ncheckpoints:\n"
        "  - id: greeting\n    title: Greeting\n    examples: [hello]\n    advice: Say hello.\n"
        "  - id: Next\n    title: Next step\n    phrases: [shall we meet on Monday]\n    advice: Agree a day.\n"
        "objections:\n  - type: price\n    title: Price\n    phrases: [too expensive]\n"
        "scoring:\n  checkpoint_share: 0.8\n"
    )
    result = subprocess.run([sys.executable, "-m", "cli", "script", "check", str(bad)], capture_output=True,
                            text=True, timeout=PATIENCE, check=False)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"callqa: {bad}:4: terms: unknown key: did you mean 'product_terms'?",
        f"callqa: {bad}:8: checkpoints.0.examples: unknown key: did you mean 'phrases'?",
        (f"callqa: {bad}:10: checkpoints.1.id: 'Next' is not lower_snake_case (a lower-case letter, then "
        "lower-case letters, digits or _)"),
        f"callqa: {bad}:15: objections.0.id: Field required",
        f"callqa: {bad}:15: objections.0.type: unknown key: did you mean 'id'?",
        f"callqa: {bad}:19: scoring.checkpoint_share: unknown key: did you mean 'checkpoints_share'?",
    ]


def test_a_pack_written_from_the_example_passes_check_and_the_example_holds_every_key(tmp_path: Path) -> None:
    """`callqa script new` writes the commented example under the new id; it passes `script check`
    as written, and it sets every key the schema knows, so it cannot fall behind the schema."""
    from pydantic import BaseModel

    from scripts_lib.schema import ScriptPack

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli", "script", *args], capture_output=True, text=True,
                              timeout=PATIENCE, check=False, cwd=tmp_path)  # fmt: skip

    written = run("new", "parcels_outbound")
    assert written.returncode == 0 and (tmp_path / "parcels_outbound.yaml").is_file()
    checked = run("check", "parcels_outbound.yaml")
    assert checked.returncode == 0 and checked.stdout.startswith("parcels_outbound.yaml: OK (parcels_outbound v1")
    assert run("new", "parcels_outbound").returncode == 2  # never over a pack that is there

    def keys(model: type[BaseModel], prefix: str = "") -> set[str]:
        found = set()
        for name, field in model.model_fields.items():
            found.add(prefix + name)
            inner = [a for a in (*typing.get_args(field.annotation), field.annotation) if isinstance(a, type)
                     and issubclass(a, BaseModel)]  # fmt: skip
            for sub in inner[:1]:
                found |= keys(sub, f"{prefix}{name}.")
        return found

    def used(data: object, prefix: str = "") -> set[str]:
        if isinstance(data, list):
            return set().union(*(used(d, prefix) for d in data)) if data else set()
        if not isinstance(data, dict):
            return set()
        return set().union(*({prefix + str(k)} | used(v, f"{prefix}{k}.") for k, v in data.items()))

    import yaml

    example = yaml.safe_load((tmp_path / "parcels_outbound.yaml").read_text())
    missing = keys(ScriptPack) - used(example)
    assert not missing, f"the example pack lacks {sorted(missing)}"
