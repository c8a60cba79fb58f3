"""Mining the development set's FleetTrack calls as a team would: stored, analysed, then mined.

    python bench/mining.py                       # the Piper stereo recordings
    python bench/mining.py --rendering espeak-ng --devset DEVSET

Four won FleetTrack calls answer the price objection with one idea in different words, a free
month on three trucks (the first comment of the set's ``fleettrack_dialogues.py`` names them).
The recordings are copied into a fresh batch folder with a ``calls.jsonl`` giving each call's
manager and outcome, put through ``callqa batch`` with the trainer's pack into a fresh SQLite
database, and ``callqa mine`` groups the answers. Printed: every price group with its calls and
won rate, and which of the four are in the top one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PILOT = ("d1_01", "d1_05", "d1_09", "d1_15")
FOLDERS = {"piper": "fleettrack_piper", "espeak-ng": "fleettrack"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=ROOT.parent / "shared" / "data" / "devset")
    parser.add_argument("--rendering", choices=sorted(FOLDERS), default="piper")
    args = parser.parse_args()
    source = args.devset / FOLDERS[args.rendering]
    pack = args.devset / "packs" / "fleettrack.yaml"
    with tempfile.TemporaryDirectory() as work:
        batch, lines = Path(work) / "calls", []
        batch.mkdir()
        for labels in sorted(source.glob("*.json")):
            data = json.loads(labels.read_text())
            shutil.copy(labels.with_suffix(".stereo.flac"), batch / f"{labels.stem}.flac")
            lines.append(json.dumps({"file": f"{labels.stem}.flac", "manager": data["manager"],
                                     "outcome": data["outcome"], "started_at": "2026-11-20T10:00:00"}))  # fmt: skip
        (batch / "calls.jsonl").write_text("\n".join(lines) + "\n")
        env = os.environ | {"CALLQA_DATA_DIR": str(Path(work) / "data")}
        env.pop("CALLQA_DATABASE_URL", None)
        callqa = [sys.executable, "-m", "cli"]
        subprocess.run([*callqa, "batch", str(batch), "--script", str(pack)], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        mined = subprocess.run([*callqa, "mine", "--script", str(pack), "--json"], env=env, check=True,
                               capture_output=True, text=True)  # fmt: skip
        with sqlite3.connect(Path(work) / "data" / "callqa.db") as db:
            names = {i: Path(name).stem for i, name in db.execute("SELECT id, original_name FROM calls")}
    groups = json.loads(mined.stdout).get("objection:price", [])
    print(f"FleetTrack, {args.rendering} stereo: {len(names)} calls stored; price groups, best first:")
    for group in groups:
        calls = sorted({names[m["call"]] for m in group["moments"]})
        print(f"  {group['calls']} calls ({', '.join(calls)}), {group['won_rate']:.0%} won "
              f"(team {group['team_rate']:.0%}): {group['representative']!r}")  # fmt: skip
    top = {names[m["call"]] for m in groups[0]["moments"]} if groups else set()
    print(f"the four pilot calls in the top group: {', '.join(c for c in PILOT if c in top) or 'none'}"
          f"{'' if groups else ' (no price group at all)'}")  # fmt: skip


if __name__ == "__main__":
    main()
