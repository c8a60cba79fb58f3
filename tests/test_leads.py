"""Revivable lost leads on the golden calls, whose labels say which lost calls left an objection
unhandled: the command line, the CSV for the CRM, the API and its roles."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CALLS, PATIENCE
from fastapi.testclient import TestClient

MANAGERS = ("Daniel", "Emma")


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Every lost golden call and two won ones, processed for real; the environment, and each
    call's file name by the manager it was given."""
    from api import create_app
    from callqa.settings import Settings
    from pipeline.metadata import CallInfo
    from pipeline.process import accept_recording
    from pipeline.scripts import register_script

    data = tmp_path_factory.mktemp("leads")
    env = {"CALLQA_DATA_DIR": str(data), "CALLQA_CACHE_DIR": str(cache_dir)}
    ctx = create_app(Settings.from_env(env)).state.context
    script = register_script(ctx.sessions, "b2b_outbound")
    names = sorted(p.name.removesuffix(".8k.wav") for p in CALLS.glob("lost_*.8k.wav")) + ["won_quick", "won_price_handled"]
    managers = {}
    for i, name in enumerate(names):
        labels = json.loads((CALLS / f"{name}.labels.json").read_text())
        info = CallInfo(manager=MANAGERS[i % 2], outcome=labels["outcome"], deal_id=f"D-{i}")
        accept_recording(ctx, CALLS / f"{name}.8k.wav", f"{name}.wav", info, script)
        managers[name] = MANAGERS[i % 2]
    return {**os.environ, **env}, managers


def labelled_revivable() -> set[str]:
    found = set()
    for path in CALLS.glob("*.labels.json"):
        labels = json.loads(path.read_text())
        if labels["outcome"] == "lost" and any(not o["handled"] for o in labels["objections"]):
            found.add(path.name.removesuffix(".labels.json"))
    return found


def test_revive_finds_the_lost_calls_with_an_unworked_objection(stored: tuple[dict[str, str], dict[str, str]]) -> None:
    env, _ = stored
    result = subprocess.run([sys.executable, "-m", "cli", "revive", "--since", "2020-01-01", "--csv", "-"],
                            env=env, capture_output=True, text=True, timeout=PATIENCE, check=True)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    from storage import connect
    from storage.models import Call

    with connect(f"sqlite:///{env['CALLQA_DATA_DIR']}/callqa.db")() as db:
        files = {int(r["call_id"]): db.get_one(Call, int(r["call_id"])).original_name.removesuffix(".wav") for r in rows}
    assert set(files.values()) == labelled_revivable()  # all seven, and no won or objection-free call
    assert [float(r["revivability"]) for r in rows] == sorted((float(r["revivability"]) for r in rows), reverse=True)
    first = rows[0]
    assert first["link"] == f"http://127.0.0.1:8000/calls/{first['call_id']}#t={float(first['moment']):.1f}"
    assert first["deal_id"].startswith("D-") and first["objection"] and first["said"] and first["reasons"]
    later = subprocess.run([sys.executable, "-m", "cli", "revive", "--since", "2999-01-01"],
                           env=env, capture_output=True, text=True, timeout=PATIENCE, check=True)  # fmt: skip
    assert later.stdout == "" and "0 revivable leads" in later.stderr


def test_revivable_leads_over_the_api_by_role(stored: tuple[dict[str, str], dict[str, str]]) -> None:
    from api import create_app
    from callqa.settings import Settings
    from storage.users import add_user

    env, managers = stored
    app = create_app(Settings.from_env(env))
    quality = add_user(app.state.context.sessions, "q-leads", "quality")
    emma = add_user(app.state.context.sessions, "Emma", "manager")
    with TestClient(app) as client:
        everyone = client.get("/api/leads/revivable", headers={"Authorization": f"Bearer {quality}"}).json()
        assert everyone["total"] == len(labelled_revivable())
        own = client.get("/api/leads/revivable", headers={"Authorization": f"Bearer {emma}"}).json()
        emmas = {name for name in labelled_revivable() if managers[name] == "Emma"}
        assert own["total"] == len(emmas) > 0 and {i["manager"] for i in own["items"]} == {"Emma"}
        sheet = client.get("/api/leads/revivable", params={"format": "csv"}, headers={"Authorization": f"Bearer {quality}"})
        assert sheet.headers["content-type"].startswith("text/csv") and "attachment" in sheet.headers["content-disposition"]
        assert sheet.text.splitlines()[0] == "call_id,at,manager,client_phone,deal_id,objection,moment,said,revivability,reasons,link"
        assert len(sheet.text.splitlines()) == everyone["total"] + 1
