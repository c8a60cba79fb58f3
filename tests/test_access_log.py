"""The access log: opening a call, playing its audio and exporting are recorded, through the API
and the pages; admins read it; nobody can change it, not even through the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PASSWORD, site
from fastapi.testclient import TestClient


def test_opening_playing_exporting_and_holding_are_recorded_for_admins_to_read(
    database: str, tmp_path: Path, cache_dir: Path
) -> None:
    from sqlalchemy import text

    app, tokens = site(database, tmp_path / "data", cache_dir)
    api = TestClient(app)
    as_ = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    call = api.get("/api/calls", headers=as_["quality"]).json()["items"][0]["id"]

    assert api.get(f"/api/calls/{call}", headers=as_["quality"]).status_code == 200
    assert api.get(f"/api/calls/{call}/audio", headers=as_["quality"]).status_code == 200
    # A player seeking asks for ranges: one play, not one entry per range.
    ranged = api.get(f"/api/calls/{call}/audio", headers=as_["quality"] | {"Range": "bytes=1000-1999"})
    assert ranged.status_code == 206
    assert api.get("/api/leads/revivable", params={"format": "csv"}, headers=as_["trainer"]).status_code == 200
    assert api.put(f"/api/calls/{call}/hold", json={"reason": "dispute #12"}, headers=as_["quality"]).json()["hold"]
    assert api.put(f"/api/calls/{call}/hold", json={"reason": ""}, headers=as_["quality"]).status_code == 422
    assert api.put(f"/api/calls/{call}/hold", json={"reason": "x"}, headers=as_["trainer"]).status_code == 403
    browser = TestClient(app)
    browser.post("/login", data={"name": "quality-user", "password": PASSWORD, "next": "/calls"})
    page = browser.get(f"/calls/{call}")
    assert page.status_code == 200 and "On hold: dispute #12" in page.text and 'preload="none"' in page.text

    log = api.get("/api/access-log", headers=as_["admin"]).json()["items"]
    assert [(e["user"], e["action"], e["call_id"]) for e in log] == [
        ("quality-user", "open", call),  # the page
        ("quality-user", "hold", call),
        ("trainer-user", "export", None),
        ("quality-user", "play", call),
        ("quality-user", "open", call),  # the API
    ]
    assert log[2]["detail"] == "/api/leads/revivable?format=csv" and log[1]["detail"] == "dispute #12"
    assert all(e["at"].endswith("Z") for e in log)
    plays = api.get("/api/access-log", params={"action": "play", "user": "quality-user"}, headers=as_["admin"]).json()
    assert [e["call_id"] for e in plays["items"]] == [call]
    one = api.get("/api/access-log", params={"limit": 2}, headers=as_["admin"]).json()
    older = api.get("/api/access-log", params={"limit": 2, "before": one["next_before"]}, headers=as_["admin"]).json()
    assert [e["id"] for e in one["items"] + older["items"]] == [e["id"] for e in log[:4]]

    # Read by admins only; no way to change it through the API.
    assert api.get("/api/access-log", headers=as_["quality"]).status_code == 403
    assert browser.get("/access-log").status_code == 403
    assert api.delete("/api/access-log", headers=as_["admin"]).status_code == 405
    admin = TestClient(app)
    admin.post("/login", data={"name": "admin-user", "password": PASSWORD, "next": "/calls"})
    listed = admin.get("/access-log", params={"action": "export"})
    assert listed.status_code == 200 and "/api/leads/revivable?format=csv" in listed.text
    assert "dispute #12" not in listed.text  # filtered to exports

    # Nor through the database: it refuses updates and deletes.
    ctx = app.state.context
    for statement in ("UPDATE access_log SET user_name = 'someone else'", "DELETE FROM access_log"):
        with pytest.raises(Exception, match="append-only"), ctx.sessions.begin() as db:
            db.execute(text(statement))
    assert len(api.get("/api/access-log", headers=as_["admin"]).json()["items"]) == len(log)


def test_pages_of_call_content_and_searches_are_recorded(database: str, tmp_path: Path, cache_dir: Path) -> None:
    """The leads page (clients' phones and words), a draft's page (quotes from calls) and a search
    of the calls' words (which calls hold a word) each leave an entry: a search its query, not
    what it found."""
    app, tokens = site(database, tmp_path / "data", cache_dir)
    api = TestClient(app)
    trainer = TestClient(app)
    trainer.post("/login", data={"name": "trainer-user", "password": PASSWORD, "next": "/calls"})
    assert trainer.get("/leads", params={"since": "2020-01-01"}).status_code == 200
    assert trainer.get("/scripts/1/draft").status_code == 200
    assert trainer.get("/calls", params={"q": "price"}).status_code == 200
    assert trainer.get("/calls").status_code == 200  # a list with no words searched: no entry
    found = api.get("/api/calls", params={"q": "delivery"}, headers={"Authorization": f"Bearer {tokens['quality']}"})
    assert found.status_code == 200
    log = api.get("/api/access-log", headers={"Authorization": f"Bearer {tokens['admin']}"}).json()["items"]
    assert [(e["user"], e["action"], e["detail"]) for e in log] == [
        ("quality-user", "search", "/api/calls?q=delivery"),
        ("trainer-user", "search", "/calls?q=price"),
        ("trainer-user", "view", "/scripts/1/draft"),
        ("trainer-user", "view", "/leads?since=2020-01-01"),
    ]


def test_an_export_asked_from_another_site_is_refused_and_not_logged(
    database: str, tmp_path: Path, cache_dir: Path
) -> None:
    """A link on another site that a signed-in admin follows (the browser says ``Sec-Fetch-Site:
    cross-site``, or names the other site as its Referer) runs no export and logs none under the
    admin's name; the same export from callqa's own pages, typed in, or with a token still works."""
    app, tokens = site(database, tmp_path / "data", cache_dir)
    admin = TestClient(app)
    admin.post("/login", data={"name": "admin-user", "password": PASSWORD, "next": "/calls"})
    exports = ["/api/calls?format=csv", "/api/kpis?format=csv", "/api/leads/revivable?format=csv",
               "/api/scripts/1/draft?format=yaml"]  # fmt: skip
    for path in exports:
        for away in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                     {"Referer": "https://evil.example/page"}):  # fmt: skip
            refused = admin.get(path, headers=away)
            assert refused.status_code == 403 and "from another site" in refused.json()["error"], (path, away)
    token = {"Authorization": f"Bearer {tokens['admin']}"}
    assert api_log(app, token) == []
    assert admin.get(exports[0], headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert admin.get(exports[1], headers={"Sec-Fetch-Site": "none"}).status_code == 200  # typed in
    assert TestClient(app).get(exports[2], headers=token | {"Sec-Fetch-Site": "cross-site"}).status_code == 200
    assert [e["detail"] for e in api_log(app, token)] == exports[2::-1]


def api_log(app: object, token: dict[str, str]) -> list[dict[str, object]]:
    return TestClient(app).get("/api/access-log", params={"action": "export"}, headers=token).json()["items"]  # type: ignore[arg-type]
