"""The documentation: the site builds with every link and anchor whole, the README stays a front
door, and the pack reference is what the schema says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import PATIENCE

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    """A broken link, a missing anchor or a page left out of the navigation is a warning (the
    validation in mkdocs.yml), and strict mode fails the build on any warning."""
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=PATIENCE, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "prints the scored report" in home, "docs/index.md no longer takes the README's setup"
    assert (site / "pack-reference" / "index.html").is_file()


def test_the_readme_is_a_front_door_that_links_to_pages_that_exist() -> None:
    from markdown.extensions.toc import slugify

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 300, "the README is a front door: move the detail into docs/"
    targets = LINK.findall(readme)
    assert targets, "the README links to no docs page"
    for target in targets:
        path, _, anchor = target.partition("#")
        assert path.startswith("docs/") and (ROOT / path).is_file(), f"README links to {target}: no such docs page"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", (ROOT / path).read_text(encoding="utf-8"), re.MULTILINE)
            assert anchor in {slugify(h, "-") for h in headings}, f"README links to {target}: no such heading"


def test_the_pack_reference_is_what_the_schema_says() -> None:
    from scripts_lib.reference import pack_reference

    committed = (DOCS / "pack-reference.md").read_text(encoding="utf-8")
    assert committed == pack_reference(), (
        "docs/pack-reference.md differs from the schema and the example pack: "
        "run `.venv/bin/python -m scripts_lib.reference --write`"
    )


def test_a_pack_written_from_the_references_example_passes_check_first_time(tmp_path: Path) -> None:
    """What a trainer copies from the reference page is a pack `callqa script check` accepts."""
    page = (DOCS / "pack-reference.md").read_text(encoding="utf-8")
    example = re.search(r"^## The example pack\n.*?```yaml\n(.*?)```", page, re.DOTALL | re.MULTILINE)
    assert example, "the pack reference shows no example pack"
    (tmp_path / "my_pack.yaml").write_text(example.group(1).replace("example_pack", "my_pack"), encoding="utf-8")
    checked = subprocess.run([sys.executable, "-m", "cli", "script", "check", "my_pack.yaml"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=PATIENCE, check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("my_pack.yaml: OK (my_pack v1, en, 4 checkpoints")
