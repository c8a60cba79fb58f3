"""The JSON API against the real app and real databases: auth and roles, filters, detail, Range audio, upload."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import CALLS, site
from fastapi.testclient import TestClient


@pytest.fixture
def api(database: str, tmp_path: Path, cache_dir: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app over a database holding two analysed calls, one per manager; a token per role."""
    app, tokens = site(database, tmp_path / "data", cache_dir)
    with TestClient(app) as client:
        yield client, tokens


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_route_but_health_needs_a_valid_token(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    assert client.get("/health").json() == {"status": "ok"}
    # The schema and its pages too: a token, or a signed-in browser (sent to sign in first).
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/openapi.json", headers=auth("wrong")).status_code == 401
    for page in ("/docs", "/redoc"):
        away = client.get(page, follow_redirects=False)
        assert away.status_code == 303 and away.headers["location"] == f"/login?next=%2F{page[1:]}"
    schema = client.get("/openapi.json", headers=auth(tokens["manager"])).json()  # every route the API documents
    routes = [(method, re.sub(r"\{[^}]+\}", "1", path)) for path, methods in schema["paths"].items()
              if path.startswith("/api/") for method in methods]  # fmt: skip
    assert len(routes) >= 12
    for method, path in routes:
        response = getattr(client, method)(path)
        assert response.status_code == 401 and response.json()["error"].startswith("authentication required")
        response = getattr(client, method)(path, headers=auth("wrong"))
        assert response.status_code == 401 and response.json() == {"error": "invalid token"}


def test_list_filters_sorts_and_pages(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    listed = client.get("/api/calls", params={"sort": "-score"}, headers=auth(tokens["quality"])).json()
    assert listed["total"] == 2 and [c["file"] for c in listed["items"]] == ["won_quick.wav", "lost_timing_ended.wav"]
    assert listed["items"][0]["script"] == {"id": "b2b_outbound", "version": 1}
    low = client.get("/api/calls", params={"score_max": 50}, headers=auth(tokens["quality"])).json()
    assert [c["manager"] for c in low["items"]] == ["Emma"]
    won = client.get("/api/calls", params={"outcome": "WON", "manager": "Daniel"}, headers=auth(tokens["trainer"]))
    assert [c["file"] for c in won.json()["items"]] == ["won_quick.wav"]
    paged = client.get("/api/calls", params={"per_page": 1, "page": 2, "sort": "score"}, headers=auth(tokens["admin"]))
    assert paged.json()["total"] == 2 and [c["file"] for c in paged.json()["items"]] == ["won_quick.wav"]
    bad = client.get("/api/calls", params={"score_min": 101}, headers=auth(tokens["admin"]))
    assert bad.status_code == 422 and bad.json()["error"].startswith("query.score_min:")


def test_a_manager_sees_only_their_own_calls(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    mine = client.get("/api/calls", headers=auth(tokens["manager"])).json()
    assert [c["manager"] for c in mine["items"]] == ["Emma"]
    own_id = mine["items"][0]["id"]
    other_id = next(c["id"] for c in client.get("/api/calls", headers=auth(tokens["admin"])).json()["items"]
                    if c["manager"] == "Daniel")  # fmt: skip
    assert client.get(f"/api/calls/{own_id}", headers=auth(tokens["manager"])).status_code == 200
    for path in (f"/api/calls/{other_id}", f"/api/calls/{other_id}/audio"):
        response = client.get(path, headers=auth(tokens["manager"]))
        assert response.status_code == 404 and response.json() == {"error": "no such call"}


def test_call_detail_and_audio_with_range(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    call_id = client.get("/api/calls", params={"manager": "Daniel"}, headers=auth(tokens["quality"])).json()["items"][0]["id"]
    detail = client.get(f"/api/calls/{call_id}", headers=auth(tokens["quality"])).json()
    assert detail["manager"] == "Daniel" and detail["outcome"] == "won"
    assert detail["transcript"]["utterances"][0]["speaker"] == "manager"
    [report] = detail["reports"]
    assert report["script"]["id"] == "b2b_outbound" and {c["id"] for c in report["checkpoints"]} >= {"greeting"}
    whole = (CALLS / "won_quick.8k.wav").read_bytes()
    part = client.get(detail["audio"], headers={**auth(tokens["quality"]), "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}" and part.headers["content-type"] == "audio/wav"


def test_the_script_field_names_a_pack_never_a_path_on_the_server(
    api: tuple[TestClient, dict[str, str]], tmp_path: Path
) -> None:
    """A client names a stored or bundled pack (ID or ID@VERSION); a path would open any file the
    server can read, and the answers would tell which paths exist."""
    client, tokens = api
    private = tmp_path / "private.yaml"  # a valid pack the server can read, nobody sent it
    private.write_text((Path(__file__).parents[1] / "scripts_lib" / "packs" / "b2b_outbound.yaml").read_text().replace(
        "id: b2b_outbound", "id: private_pack"))  # fmt: skip
    private.chmod(0o600)
    audio = (CALLS / "won_honest.8k.wav").read_bytes()
    answers = set()
    for path in ("/etc/shadow", "/etc", "/no/such/file.yaml", str(private), "../scripts_lib/packs/inbound_en.yaml"):
        sent = client.post("/api/calls", headers=auth(tokens["quality"]), data={"script": path},
                           files={"file": ("p.wav", audio, "audio/wav")})  # fmt: skip
        assert sent.status_code == 422, (path, sent.text)
        answers.add(sent.json()["error"].replace(path, "PATH"))
    assert answers == {"script PATH: give a script pack's id, or ID@VERSION, not a path"}  # the same, whatever exists
    assert "private_pack" not in client.get("/api/scripts", headers=auth(tokens["quality"])).text
    bundled = client.post("/api/calls", headers=auth(tokens["quality"]), data={"script": "inbound_en"},
                          files={"file": ("p.wav", audio, "audio/wav")})  # fmt: skip
    assert bundled.status_code == 202, bundled.text


def test_upload_checks_the_file_before_storing_and_processes_it(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    before = client.get("/api/calls", headers=auth(tokens["admin"])).json()["total"]
    fake = client.post("/api/calls", headers=auth(tokens["quality"]),
                       files={"file": ("call.wav", b"RIFF0000WAVEnot really", "audio/wav")})  # fmt: skip
    assert fake.status_code == 422 and fake.json()["error"].startswith("call.wav: ")
    text = client.post("/api/calls", headers=auth(tokens["quality"]), files={"file": ("notes.txt", b"hi", "text/plain")})
    assert text.status_code == 422 and "not a recording" in text.json()["error"]
    # Whatever a batch takes from a folder, an upload takes too (here refused only for being empty).
    for name in ("call.oga", "call.mp4", "call.gsm"):
        empty = client.post("/api/calls", headers=auth(tokens["quality"]), files={"file": (name, b"", "audio/ogg")})
        assert empty.status_code == 422 and empty.json()["error"] == f"file {name}: empty", name
    trainer = client.post("/api/calls", headers=auth(tokens["trainer"]), files={"file": ("a.wav", b"x", "audio/wav")})
    assert trainer.status_code == 403 and "needs the role admin or quality" in trainer.json()["error"]
    assert client.get("/api/calls", headers=auth(tokens["admin"])).json()["total"] == before  # nothing stored

    audio = (CALLS / "won_honest.8k.wav").read_bytes()
    sent = client.post("/api/calls", headers=auth(tokens["quality"]), files={"file": ("0915.wav", audio, "audio/wav")},
                       data={"manager": "Daniel", "direction": "outbound", "deal_id": "D-9"})  # fmt: skip
    assert sent.status_code == 202, sent.text
    call_id = sent.json()["call"]
    deadline = time.monotonic() + 120
    while not (detail := client.get(f"/api/calls/{call_id}", headers=auth(tokens["quality"])).json())["reports"]:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert detail["deal_id"] == "D-9" and detail["jobs"][0]["state"] == "done"
    again = client.post("/api/calls", headers=auth(tokens["quality"]), files={"file": ("copy.wav", audio, "audio/wav")})
    assert again.json() == {"call": call_id, "job": None, "status": "already analysed"}


def test_filters_on_verdicts_and_transcript_words(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api

    def files(**params: object) -> list[str]:
        listed = client.get("/api/calls", params=params, headers=auth(tokens["quality"]))
        assert listed.status_code == 200, listed.text
        return [c["file"] for c in listed.json()["items"]]

    assert files(objection="timing", handled=False) == ["lost_timing_ended.wav"]
    assert files(objection="timing", handled=True) == []
    assert files(failed_checkpoint="next_step") == ["lost_timing_ended.wav"]
    assert files(q="BRIGHTLINE", sort="score") == ["lost_timing_ended.wav", "won_quick.wav"]
    assert files(q="brightline, busy!") == ["lost_timing_ended.wav"]  # every word, punctuation aside
    assert files(q="brightl") == [] and files(q="speaker") == []  # whole words of what was said only
    assert files(q="busy") == ["lost_timing_ended.wav"]


def test_a_review_overrides_a_verdict_and_both_scores_are_kept(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    call = client.get("/api/calls", params={"manager": "Emma"}, headers=auth(tokens["quality"])).json()["items"][0]
    machine = call["score"]
    dispute = client.post(f"/api/calls/{call['id']}/disputes", headers=auth(tokens["manager"]),
                          json={"target": "objection:timing", "comment": "The client had to go; I offered a call back."})  # fmt: skip
    assert dispute.status_code == 201 and dispute.json()["kind"] == "dispute"
    wrong_role = client.post(f"/api/calls/{call['id']}/reviews", headers=auth(tokens["manager"]),
                             json={"target": "objection:timing", "verdict": True})  # fmt: skip
    assert wrong_role.status_code == 403

    reviewed = client.post(f"/api/calls/{call['id']}/reviews", headers=auth(tokens["quality"]),
                           json={"target": "objection:timing", "verdict": True, "comment": "Agreed."})  # fmt: skip
    assert reviewed.status_code == 201, reviewed.text
    entry = reviewed.json()
    assert entry["score_before"] == machine and entry["score_after"] > machine
    second = client.post(f"/api/calls/{call['id']}/reviews", headers=auth(tokens["quality"]),
                         json={"target": "checkpoint:next_step", "verdict": True})  # fmt: skip
    assert second.json()["score_before"] == entry["score_after"] < second.json()["score_after"]

    detail = client.get(f"/api/calls/{call['id']}", headers=auth(tokens["quality"])).json()
    [report] = detail["reports"]
    assert report["score"] == machine and report["reviewed_score"] == second.json()["score_after"]
    assert [(r["kind"], r["target"], r["user"]) for r in detail["reviews"]] == [
        ("dispute", "objection:timing", "Emma"),
        ("review", "objection:timing", "quality-user"),
        ("review", "checkpoint:next_step", "quality-user"),
    ]
    bad = client.post(f"/api/calls/{call['id']}/reviews", headers=auth(tokens["quality"]),
                      json={"target": "checkpoint:nonsense", "verdict": True})  # fmt: skip
    assert bad.status_code == 422 and "checkpoint:nonsense" in bad.json()["error"]
    malformed = client.post(f"/api/calls/{call['id']}/reviews", headers=auth(tokens["quality"]), json={"target": "x"})
    assert malformed.status_code == 422 and malformed.json()["error"].startswith("body.")


def test_two_verdicts_given_at_once_on_one_call_both_count(api: tuple[TestClient, dict[str, str]]) -> None:
    """Two reviewers (or two quick clicks) on one call at the same moment: the reviewed report
    holds both verdicts, and the second starts from the score the first left."""
    client, tokens = api
    call = client.get("/api/calls", params={"manager": "Emma"}, headers=auth(tokens["quality"])).json()["items"][0]
    machine = call["score"]
    start = threading.Barrier(2)

    def give(target: str) -> dict:
        start.wait()
        answer = client.post(f"/api/calls/{call['id']}/reviews", headers=auth(tokens["quality"]),
                             json={"target": target, "verdict": True})  # fmt: skip
        assert answer.status_code == 201, answer.text
        return answer.json()

    with ThreadPoolExecutor(2) as pool:
        entries = list(pool.map(give, ["objection:timing", "checkpoint:next_step"]))
    first, second = sorted(entries, key=lambda e: e["id"])
    assert first["score_before"] == machine < first["score_after"] == second["score_before"] < second["score_after"]
    [report] = client.get(f"/api/calls/{call['id']}", headers=auth(tokens["quality"])).json()["reports"]
    assert report["reviewed_score"] == second["score_after"]
    assert {"unhandled_objection:timing", "missed_checkpoint:next_step"}.isdisjoint(
        m["code"] for m in report["reviewed"]["mistakes"])


def test_a_reviewer_adds_an_objection_the_machine_missed(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    call = client.get("/api/calls", params={"manager": "Emma"}, headers=auth(tokens["quality"])).json()["items"][0]
    detail = client.get(f"/api/calls/{call['id']}", headers=auth(tokens["quality"])).json()
    machine = detail["reports"][-1]
    objecting = [(o["start"], o["end"]) for o in machine["objections"]]
    said = next(u for u in detail["transcript"]["utterances"] if u["speaker"] == "client"
                and not any(a <= u["start"] + 0.5 <= b for a, b in objecting))  # fmt: skip
    target = f"added:authority@{said['start'] + 0.5:.1f}"
    added = client.post(f"/api/calls/{call['id']}/reviews", headers=auth(tokens["quality"]),
                        json={"target": target, "verdict": False, "comment": "Her boss decides; not answered."})  # fmt: skip
    assert added.status_code == 201, added.text
    assert added.json()["score_before"] == machine["score"]
    reviewed = client.get(f"/api/calls/{call['id']}", headers=auth(tokens["quality"])).json()["reports"][-1]["reviewed"]
    [authority] = [o for o in reviewed["objections"] if o["type"] == "authority"]
    assert authority["text"] in said["text"] and authority["handled"] is False
    assert any(m["code"] == "unhandled_objection:authority" for m in reviewed["mistakes"])
    handled = client.post(f"/api/calls/{call['id']}/reviews", headers=auth(tokens["quality"]),
                          json={"target": target, "verdict": True})  # fmt: skip
    assert handled.json()["score_after"] > added.json()["score_after"]  # one of two objections handled
    unknown = client.post(f"/api/calls/{call['id']}/reviews", headers=auth(tokens["quality"]),
                          json={"target": "added:roof@1.0", "verdict": True})  # fmt: skip
    assert unknown.status_code == 422 and "'roof' is not an objection type of script b2b_outbound" in unknown.json()["error"]
    disputed = client.post(f"/api/calls/{call['id']}/disputes", headers=auth(tokens["manager"]),
                           json={"target": target, "comment": "I did answer it."})  # fmt: skip
    assert disputed.status_code == 422  # a manager disputes the objection itself, not the adding


def test_scripts_upload_validate_list_and_rescore(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    from scripts_lib import find_pack

    text = find_pack("b2b_outbound").read_text()
    broken = text.replace("    weight: 3\n", "    wieght: 3\n", 1)
    refused = client.post("/api/scripts", headers=auth(tokens["trainer"]),
                          files={"file": ("mine.yaml", broken.encode(), "application/yaml")})  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["error"].startswith("mine.yaml:") and "unknown key: did you mean 'weight'?" in refused.json()["error"]
    quality = client.post("/api/scripts", headers=auth(tokens["quality"]), files={"file": ("v2.yaml", b"x", "text/yaml")})
    assert quality.status_code == 403

    v2 = text.replace("version: 1", "version: 2").replace("checkpoints_share: 0.8", "checkpoints_share: 0.5")
    stored = client.post("/api/scripts", headers=auth(tokens["trainer"]), files={"file": ("v2.yaml", v2.encode(), "text/yaml")})
    assert stored.status_code == 201 and (stored.json()["pack"], stored.json()["version"]) == ("b2b_outbound", 2)
    versions = client.get("/api/scripts", headers=auth(tokens["manager"])).json()
    assert [(s["pack"], s["version"]) for s in versions] == [("b2b_outbound", 2), ("b2b_outbound", 1)]
    call = client.get("/api/calls", params={"manager": "Emma"}, headers=auth(tokens["quality"])).json()["items"][0]
    reviewed = client.post(f"/api/calls/{call['id']}/reviews", headers=auth(tokens["quality"]),
                           json={"target": "checkpoint:greeting", "verdict": True})  # fmt: skip
    assert reviewed.status_code == 201
    assert client.get(f"/api/calls/{call['id']}", headers=auth(tokens["quality"])).json()["review"] == "reviewed"
    started = client.post(f"/api/scripts/{stored.json()['id']}/rescore", headers=auth(tokens["trainer"]))
    assert started.status_code == 202
    listed = client.get("/api/calls", params={"script": "b2b_outbound"}, headers=auth(tokens["quality"])).json()
    assert {c["script"]["version"] for c in listed["items"]} == {2}  # the newest report of each call
    # The review was of version 1's verdicts: under version 2 the call waits for review again.
    assert {c["review"] for c in listed["items"]} == {"none"}


def test_jobs_managers_and_the_webhook(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    jobs = client.get("/api/jobs", params={"state": "done"}, headers=auth(tokens["quality"])).json()
    assert len(jobs) == 2 and {j["state"] for j in jobs} == {"done"}
    assert client.get("/api/jobs", headers=auth(tokens["manager"])).status_code == 403

    summary = client.get("/api/managers/Emma/summary", headers=auth(tokens["manager"])).json()
    assert summary["days"][0]["calls"] == 1
    assert summary["objections_handled"] == {"timing": {"calls": 1, "rate": 0.0}}
    assert summary["checkpoint_pass_rate"]["greeting"] == {"calls": 1, "rate": 1.0}
    assert client.get("/api/managers/Daniel/summary", headers=auth(tokens["manager"])).status_code == 404

    audio = (CALLS / "won_supplier_handled.8k.wav").read_bytes()
    bad = client.post("/api/webhook/recording", headers=auth(tokens["admin"]), files={"file": ("c.wav", audio, "audio/wav")},
                      data={"metadata": '{"direction": "sideways"}'})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"] == "metadata: direction: 'sideways' is not inbound or outbound"
    sent = client.post("/api/webhook/recording", headers=auth(tokens["admin"]), files={"file": ("c.wav", audio, "audio/wav")},
                       data={"metadata": '{"manager": "Emma", "deal_id": "CRM-1", "started_at": "2026-11-27T10:00:00"}'})  # fmt: skip
    assert sent.status_code == 202, sent.text
    detail = client.get(f"/api/calls/{sent.json()['call']}", headers=auth(tokens["manager"])).json()
    assert (detail["manager"], detail["deal_id"], detail["started_at"]) == ("Emma", "CRM-1", "2026-11-27T10:00:00")
