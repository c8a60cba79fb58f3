"""Hostile and careless input against the real app: size limits, nesting, dates at the edges,
formulas in CSV cells, names that break links, cross-site sign-in, forged client addresses,
security headers, and who may read the stored files."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import CALLS, PASSWORD, in_thread, run_callqa, served, site
from fastapi.testclient import TestClient

FORMULA = '=HYPERLINK("http://evil.example/","open me")'


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, cache_dir: Path
) -> Iterator[tuple[TestClient, dict[str, str], Path]]:
    """The app on SQLite over one lost call with an unhandled price objection, by a manager whose
    name is a spreadsheet formula with a slash in it; tokens per role; the data folder. Shared by
    the module's tests: none of them stores a call."""
    data = tmp_path_factory.mktemp("abuse") / "data"
    recordings = ((CALLS / "lost_price_unhandled.8k.wav", FORMULA, "lost"),)
    application, tokens = site(f"sqlite:///{data / 'callqa.db'}", data, cache_dir, recordings=recordings)
    with TestClient(application, follow_redirects=False) as client:
        yield client, tokens, data


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_pack_over_the_limit_is_refused_whole(app: tuple[TestClient, dict[str, str], Path]) -> None:
    client, tokens, _ = app
    pack = (Path(__file__).parents[1] / "scripts_lib" / "packs" / "b2b_outbound.yaml").read_text()
    big = pack.replace("version: 1", "version: 7") + "\n# " + "x" * (1 << 20) + "\n"
    sent = client.post("/api/scripts", files={"file": ("big.yaml", big.encode())}, headers=auth(tokens["trainer"]))
    assert sent.status_code == 413 and sent.json() == {"error": "big.yaml: larger than 1 MiB, the most a pack may be"}
    listed = client.get("/api/scripts", headers=auth(tokens["trainer"])).json()
    assert [s["version"] for s in listed] == [1]  # nothing stored, not even cut short


def test_a_deeply_nested_pack_gets_one_line_everywhere(
    app: tuple[TestClient, dict[str, str], Path], tmp_path: Path
) -> None:
    client, tokens, _ = app
    deep = "id: deep\nversion: 1\ncheckpoints: " + "[" * 50_000 + "]" * 50_000 + "\n"
    sent = client.post("/api/scripts", files={"file": ("deep.yaml", deep.encode())}, headers=auth(tokens["trainer"]))
    assert sent.status_code == 422 and sent.json() == {"error": "deep.yaml: nested too deeply to be a script pack"}
    (tmp_path / "deep.yaml").write_text(deep)
    checked = run_callqa(dict(os.environ), "script", "check", str(tmp_path / "deep.yaml"))
    assert checked.returncode == 1 and checked.stderr == f"callqa: {tmp_path / 'deep.yaml'}: nested too deeply to be a script pack\n"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_dates_at_the_edges_get_422_with_the_range(database: str, tmp_path: Path, cache_dir: Path) -> None:
    application, tokens = site(database, tmp_path / "data", cache_dir, recordings=())
    with TestClient(application, follow_redirects=False) as client:
        headers = auth(tokens["admin"])
        for path, params in [
            ("/api/kpis", {"period": "9999-12-31"}), ("/api/kpis", {"period": "0001-W01"}),
            ("/api/calls", {"date_to": "9999-12-31"}), ("/api/calls", {"date_from": "0001-01-01"}),
            ("/api/leads/revivable", {"until": "9999-12-31"}), ("/api/scripts/1/draft", {"until": "9999-12-31"}),
            ("/api/access-log", {"until": "9999-12-31"}),
        ]:  # fmt: skip
            response = client.get(path, params=params, headers=headers)
            assert response.status_code == 422, (path, params, response.text)
            assert "2999-12-31" in response.json()["error"] or "1900-01-01" in response.json()["error"], response.text
        client.post("/login", data={"name": "admin-user", "password": PASSWORD})
        for path in ("/kpis?period=9999-12-31", "/calls?date_to=9999-12-31", "/leads?until=9999-12-31",
                     "/scripts/1/draft?since=0001-01-01", "/access-log?until=9999-12-31"):  # fmt: skip
            page = client.get(path)
            assert page.status_code == 422 and ("2999-12-31" in page.text or "1900-01-01" in page.text), path


def test_csv_cells_are_never_formulas(app: tuple[TestClient, dict[str, str], Path]) -> None:
    client, tokens, _ = app
    for path in ("/api/kpis?format=csv", "/api/leads/revivable?format=csv"):
        text = client.get(path, headers=auth(tokens["quality"])).text
        [row] = list(csv.DictReader(io.StringIO(text)))
        assert row["manager"] == "'" + FORMULA, (path, text)
        assert not any(value.startswith(("=", "+", "-", "@")) for value in row.values()), (path, row)


def test_a_manager_whose_name_holds_a_slash_has_a_working_link(
    tmp_path: Path, cache_dir: Path
) -> None:
    data = tmp_path / "data"
    recordings = ((CALLS / "won_quick.8k.wav", "Sales/East Anna", "won"),)
    application, tokens = site(f"sqlite:///{data / 'callqa.db'}", data, cache_dir, recordings=recordings)
    with TestClient(application, follow_redirects=False) as client:
        summary = client.get("/api/managers/Sales%2FEast%20Anna/summary", headers=auth(tokens["quality"]))
        assert summary.status_code == 200 and summary.json()["manager"] == "Sales/East Anna"
        client.post("/login", data={"name": "quality-user", "password": PASSWORD})
        link = re.search(r'href="(/managers/Sales[^"]*)"', client.get("/managers").text).group(1)  # type: ignore[union-attr]
        page = client.get(link)
        assert page.status_code == 200 and "Sales/East Anna" in page.text


def test_sign_in_from_another_site_is_refused(app: tuple[TestClient, dict[str, str], Path]) -> None:
    client, _, _ = app
    form = {"name": "quality-user", "password": PASSWORD}
    forged = client.post("/login", data=form, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403 and "another site" in forged.text and not forged.cookies
    forged = client.post("/login", data=form, headers={"Referer": "https://evil.example/page"})
    assert forged.status_code == 403
    ours = client.post("/login", data=form, headers={"Origin": "http://testserver"})
    assert ours.status_code == 303 and ours.cookies


def test_security_headers_on_pages_and_the_api(app: tuple[TestClient, dict[str, str], Path]) -> None:
    client, tokens, _ = app
    for response in (client.get("/login"), client.get("/api/calls", headers=auth(tokens["quality"])),
                     client.get("/static/call.js")):  # fmt: skip
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
    browser = TestClient(client.app)
    browser.post("/login", data={"name": "quality-user", "password": PASSWORD})
    docs = browser.get("/docs")  # Swagger UI starts with an inline script: no policy there
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers


def test_stored_recordings_and_the_database_are_private(app: tuple[TestClient, dict[str, str], Path]) -> None:
    _, _, data = app
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.suffix == ".wav" for p in files) and (data / "callqa.db") in files
    for path in [data, *(p for p in data.rglob("*") if p.is_dir())]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_a_forged_client_address_does_not_reset_the_sign_in_limit(tmp_path: Path) -> None:
    """``callqa serve``: X-Forwarded-For is believed only from CALLQA_TRUSTED_PROXIES."""
    from storage import connect
    from storage.users import add_user

    database = f"sqlite:///{tmp_path / 'callqa.db'}"
    add_user(connect(database), "quality-user", "quality", PASSWORD)

    def statuses(env: dict[str, str]) -> list[int]:
        with served({"CALLQA_DATABASE_URL": database, **env}, tmp_path / "serve.log") as url:
            return [httpx.post(f"{url}/login", data={"name": "quality-user", "password": "guess"},
                               headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(7)]  # fmt: skip

    assert statuses({}) == [401] * 5 + [429] * 2  # one client, whatever it claims
    # Behind a proxy that says so, each forwarded address is a client of its own.
    assert statuses({"CALLQA_TRUSTED_PROXIES": "127.0.0.1"}) == [401] * 7


def test_a_bad_trusted_proxy_setting_is_named() -> None:
    result = run_callqa({**os.environ, "CALLQA_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"}, "serve")
    assert result.returncode == 2
    assert result.stderr == "callqa: CALLQA_TRUSTED_PROXIES: 'proxy.local' is not an IP address or network\n"


def test_every_request_for_a_recording_is_covered_by_a_play_in_the_log(
    app: tuple[TestClient, dict[str, str], Path],
) -> None:
    from storage.users import add_user

    client, tokens, _ = app
    call = client.get("/api/calls", headers=auth(tokens["quality"])).json()["items"][0]["id"]
    sessions = client.app.state.context.sessions  # type: ignore[attr-defined]
    for i, asked in enumerate(["bytes=00-", "bytes=-999999999", "Bytes=0-", "bytes =0-", "bytes=1-,0-0", "bytes=5-"]):
        token = add_user(sessions, f"listener-{i}", "quality")
        served = client.get(f"/api/calls/{call}/audio", headers={**auth(token), "Range": asked})
        assert served.status_code in (200, 206, 416), (asked, served.status_code)
        plays = client.get("/api/access-log", params={"action": "play", "user": f"listener-{i}"},
                           headers=auth(tokens["admin"])).json()["items"]  # fmt: skip
        assert [e["call_id"] for e in plays] == ([call] if served.content else []), asked


def test_an_upload_that_holds_no_whole_recording_is_refused_before_storing(
    app: tuple[TestClient, dict[str, str], Path], tmp_path: Path
) -> None:
    import wave

    from conftest import encode

    client, tokens, data = app
    before = sorted(p.relative_to(data) for p in data.rglob("*") if p.is_file() and p.suffix != ".db")
    empty = tmp_path / "empty.wav"
    with wave.open(str(empty), "wb") as w:  # a header and not one sample
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
    whole = tmp_path / "call.mp3"
    encode(whole, "mp3", "libmp3lame", 16000, 1)
    half = whole.read_bytes()[: whole.stat().st_size // 2]
    for name, body, reason in [("empty.wav", empty.read_bytes(), "holds no audio"),
                               ("half.mp3", half, "truncated or corrupt")]:  # fmt: skip
        sent = client.post("/api/calls", files={"file": (name, body)}, data={"manager": "Anna"},
                           headers=auth(tokens["quality"]))  # fmt: skip
        assert sent.status_code == 422 and sent.json()["error"].startswith(f"{name}: ") and reason in sent.text
    listed = client.get("/api/calls", headers=auth(tokens["quality"])).json()
    assert listed["total"] == 1  # the call stored before, and nothing new
    assert sorted(p.relative_to(data) for p in data.rglob("*") if p.is_file() and p.suffix != ".db") == before


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_fields_over_their_length_get_422_and_a_failed_store_leaves_no_file(
    database: str, tmp_path: Path, cache_dir: Path
) -> None:
    from sqlalchemy import text

    data = tmp_path / "data"
    application, tokens = site(database, data, cache_dir, recordings=())
    audio = (CALLS / "won_quick.8k.wav").read_bytes()
    with TestClient(application, raise_server_exceptions=False) as client:

        def upload(name: str = "call.wav", **fields: str) -> httpx.Response:
            return client.post("/api/calls", files={"file": (name, audio)}, data={"script": "b2b_outbound", **fields},
                               headers=auth(tokens["quality"]))  # fmt: skip

        for field, value, most in [("outcome", "x" * 21, 20), ("manager", "M" * 300, 200),
                                   ("client_phone", "1" * 60, 50), ("deal_id", "d" * 101, 100)]:  # fmt: skip
            sent = upload(**{field: value})
            assert sent.status_code == 422, sent.text
            assert sent.json() == {"error": f"{field}: {len(value)} characters, longer than the {most} allowed"}
        sent = upload("n" * 600 + ".wav")
        assert sent.status_code == 422 and "a file name longer than 500 characters" in sent.json()["error"]
        # The database refuses the call after the recording was copied (a trigger standing in for
        # a full disk or a lost connection): the copy is deleted again.
        with application.state.context.sessions.begin() as db:
            if database.startswith("sqlite"):
                db.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON calls "
                                "BEGIN SELECT RAISE(ABORT, 'no space left on device'); END"))  # fmt: skip
            else:
                db.execute(text("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                                "RAISE EXCEPTION 'no space left on device'; END $$ LANGUAGE plpgsql"))  # fmt: skip
                db.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON calls FOR EACH ROW EXECUTE FUNCTION refuse()"))
        assert upload().status_code == 500
    assert not [p for p in data.rglob("*") if p.is_file() and p.suffix == ".wav"]


def test_users_are_listed_disabled_given_new_tokens_and_removed(tmp_path: Path, cache_dir: Path) -> None:
    import json
    import time

    data = tmp_path / "data"
    database = f"sqlite:///{data / 'callqa.db'}"
    application, tokens = site(database, data, cache_dir)
    env = {**os.environ, "CALLQA_DATABASE_URL": database, "CALLQA_DATA_DIR": str(data)}

    def user(*args: str) -> str:
        result = run_callqa(env, "user", *args)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    with TestClient(application, follow_redirects=False) as client:

        def status(token: str) -> int:
            return client.get("/api/calls", headers=auth(token)).status_code

        def signs_in(name: str, password: str = PASSWORD) -> bool:
            return client.post("/login", data={"name": name, "password": password}).status_code == 303

        listed = [json.loads(line) for line in user("list", "--json").splitlines()]
        assert {(u["name"], u["role"], u["password"]) for u in listed} == {
            ("Emma", "manager", True), ("admin-user", "admin", True), ("quality-user", "quality", True),
            ("trainer-user", "trainer", True)}  # fmt: skip

        assert signs_in("quality-user") and client.get("/calls").status_code == 200
        user("disable", "quality-user")  # signed out at once: the open session ends
        assert client.get("/calls").status_code == 303
        assert status(tokens["quality"]) == 401 and not signs_in("quality-user")
        assert "disabled" in user("list")
        user("enable", "quality-user")
        assert status(tokens["quality"]) == 200 and signs_in("quality-user")

        rotated = user("token", "quality-user", "--days", "30")
        assert status(tokens["quality"]) == 401 and status(rotated) == 200
        assert [u["token_expires"] is not None for u in map(json.loads, user("list", "--json").splitlines())
                if u["name"] == "quality-user"] == [True]  # fmt: skip
        after_password = user("password", "quality-user", "--password", "another-horse")
        assert status(rotated) == 401 and status(after_password) == 200 and signs_in("quality-user", "another-horse")
        brief = user("token", "quality-user", "--days", "0.00002")  # under two seconds
        time.sleep(2)
        assert status(brief) == 401

        user("role", "trainer-user", "manager")
        assert client.get("/api/calls", headers=auth(tokens["trainer"])).json()["total"] == 0  # no calls of their own

        call = client.get("/api/calls", headers=auth(tokens["admin"])).json()["items"][0]["id"]
        reviewed = client.post(f"/api/calls/{call}/reviews", json={"target": "checkpoint:greeting", "verdict": True},
                               headers=auth(tokens["admin"]))  # fmt: skip
        assert reviewed.status_code == 201, reviewed.text
        refused = run_callqa(env, "user", "remove", "admin-user")
        assert refused.returncode == 2 and "has 1 reviews in the calls' history; disable them instead" in refused.stderr
        user("remove", "trainer-user")
        assert status(tokens["trainer"]) == 401 and "trainer-user" not in user("list")


def answer(url: str, request: bytes, wait: float = 10.0) -> tuple[int, bytes, float]:
    """Send ``request`` as it is and read the answer: status, body, seconds it took."""
    host, _, port = url.removeprefix("http://").partition(":")
    with socket.create_connection((host, int(port))) as conn:
        started = time.monotonic()
        conn.sendall(request)
        conn.settimeout(wait)
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        while len(body) < length:
            body += conn.recv(65536)
    return int(head.split()[1]), body, time.monotonic() - started


def test_a_request_body_is_refused_before_it_is_read(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.security import BodyGuard

    spool = tmp_path / "spool"  # where the multipart parser would write an upload
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    application, tokens = site(f"sqlite:///{tmp_path / 'data' / 'callqa.db'}", tmp_path / "data", cache_dir, recordings=())
    for middleware in application.user_middleware:
        if middleware.cls is BodyGuard:
            middleware.kwargs["timeout"] = 1.0
    head = ("POST /api/calls HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            "Content-Length: {length}\r\n{auth}\r\n")  # fmt: skip
    bearer = f"Authorization: Bearer {tokens['quality']}\r\n"
    with in_thread(application) as url:
        # 600 MB announced, none sent yet: the answers come at once, without waiting for a byte.
        for auth_line, status, said in [("", 401, "authentication required"), ("Authorization: Bearer wrong\r\n", 401, "invalid token"),
                                        (bearer, 413, "larger than 500 MiB")]:  # fmt: skip
            code, body, seconds = answer(url, head.format(length=600 << 20, auth=auth_line).encode())
            assert (code, said in body.decode()) == (status, True) and seconds < 5, (code, body, seconds)
        # A body that stops arriving frees the worker after the timeout.
        code, body, seconds = answer(url, head.format(length=5000, auth=bearer).encode() + b"--b\r\n")
        assert code == 408 and b"stopped arriving" in body and seconds < 5
    # A body longer than it may be, sent without a length: cut off at the limit.
    with TestClient(application) as client:
        pieces = (b"x" * (1 << 20) for _ in range(3))
        sent = client.post("/api/scripts", content=pieces, headers={
            **auth(tokens["trainer"]), "Content-Type": "multipart/form-data; boundary=b"})  # fmt: skip
        assert sent.status_code == 413 and "larger than 2 MiB" in sent.json()["error"]
    assert list(spool.iterdir()) == []  # nothing written for any of them


def test_sign_in_guesses_sent_at_once_are_counted_before_the_password_is_checked(tmp_path: Path) -> None:
    """Forty wrong passwords for one name sent together: only the first five are checked, and the
    right password after them is held like any other try; a sprayer trying many names from one
    address is held too, while the colleague at another desk signs in."""
    from concurrent.futures import ThreadPoolExecutor

    from api import create_app
    from callqa.settings import Settings
    from storage.users import add_user

    application = create_app(Settings.from_env({"CALLQA_DATA_DIR": str(tmp_path)}))
    for name in ("quality-user", *(f"user-{i}" for i in range(30))):
        add_user(application.state.context.sessions, name, "quality", PASSWORD)
    with in_thread(application) as url, ThreadPoolExecutor(max_workers=40) as pool:

        def attempt(name: str, password: str, address: str = "192.0.2.1") -> int:
            return httpx.post(f"{url}/login", data={"name": name, "password": password}, timeout=60,
                              headers={"X-Forwarded-For": address}).status_code  # fmt: skip

        guesses = list(pool.map(lambda i: attempt("quality-user", f"guess-{i}"), range(40)))
        assert sorted(guesses) == [401] * 5 + [429] * 35
        assert attempt("quality-user", PASSWORD) == 429
        sprayed = list(pool.map(lambda i: attempt(f"user-{i}", "guess", "192.0.2.2"), range(30)))
        assert sorted(sprayed) == [401] * 20 + [429] * 10  # one address, many names
        assert attempt("user-29", PASSWORD, "192.0.2.2") == 429
        assert attempt("user-29", PASSWORD, "192.0.2.3") == 303  # the colleague at another desk


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_a_call_dated_off_the_calendar_is_refused_at_every_door(database: str, tmp_path: Path, cache_dir: Path) -> None:
    """A far-future or out-of-range ``started_at`` is one clear 422 naming the field, from the
    upload form, the webhook and a metadata file alike; and a call stored so before this check
    does not take the numbers' default period off the calendar for everyone."""
    from datetime import datetime, timedelta

    from sqlalchemy import update

    from pipeline.metadata import MetadataError, parse
    from storage.models import Call

    application, tokens = site(database, tmp_path / "data", cache_dir)
    audio = (CALLS / "won_quick.8k.wav").read_bytes()
    soon = (datetime.now() + timedelta(days=3)).isoformat(timespec="seconds")
    with TestClient(application, follow_redirects=False) as client:
        headers = auth(tokens["quality"])
        for started in ("9999-12-31T23:00:00", "1899-12-31T23:59:00", soon):
            sent = client.post("/api/calls", files={"file": ("call.wav", audio)}, headers=headers,
                               data={"script": "b2b_outbound", "started_at": started})  # fmt: skip
            assert sent.status_code == 422 and sent.json()["error"].startswith(f"started_at: {started}"), sent.text
        for started in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", soon):
            sent = client.post("/api/webhook/recording", files={"file": ("call.wav", audio)}, headers=headers,
                               data={"script": "b2b_outbound", "metadata": f'{{"started_at": "{started}"}}'})  # fmt: skip
            assert sent.status_code == 422 and sent.json()["error"].startswith(f"metadata: started_at: {started}")
        assert client.get("/api/calls", headers=headers).json()["total"] == 2  # nothing refused was stored
        with pytest.raises(MetadataError, match="^started_at: 9999-12-31T23:00:00: "):
            parse({"started_at": "9999-12-31T23:00:00"})  # a call log's row or a sidecar, in a batch
        # Stored before the check: the numbers still open on the newest call of the calendar.
        period = client.get("/api/kpis", headers=auth(tokens["admin"])).json()["period"]
        with application.state.context.sessions.begin() as db:
            far = datetime(9999, 12, 31, 23)
            db.execute(update(Call).where(Call.id == 1).values(started_at=far, at=far))
        numbers = client.get("/api/kpis", headers=auth(tokens["admin"]))
        assert numbers.status_code == 200 and numbers.json()["period"] == period
        client.post("/login", data={"name": "admin-user", "password": PASSWORD})
        assert client.get("/kpis").status_code == 200 and client.get("/managers").status_code == 200


def _wav(format_tag: int, bits: int) -> bytes:
    """A WAV file's header of ``format_tag`` and ``bits`` per sample, and a second of bytes."""
    import struct

    data = bytes(16000)
    fmt = struct.pack("<HHIIHH", format_tag, 1, 8000, 8000 * max(bits, 8) // 8, max(bits, 8) // 8, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_malformed_input_gets_a_clear_422_never_a_500(app: tuple[TestClient, dict[str, str], Path]) -> None:
    """Recordings whose header makes no sense, metadata nested past any reason, text that is not
    Unicode (a lone surrogate, which no page or database can hold) and a pack version past what a
    database integer holds: each refused in one line naming the file or the field."""
    client, tokens, _ = app
    quality, before = auth(tokens["quality"]), client.get("/api/calls", headers=auth(tokens["quality"])).json()["total"]
    for name, body in [("zero-bits.wav", _wav(1, 0)), ("odd-format.wav", _wav(0x1234, 16))]:
        sent = client.post("/api/calls", files={"file": (name, body)}, data={"script": "b2b_outbound"}, headers=quality)
        assert sent.status_code == 422 and sent.json()["error"].startswith(f"{name}: "), sent.text
    recording = (CALLS / "won_quick.8k.wav").read_bytes()
    for metadata, field in [("[" * 100_000 + "]" * 100_000, "metadata: nested too deeply"),
                            ('{"manager": "An\\ud800na"}', "metadata: manager: not valid Unicode"),
                            ('{"manager": "Anna", "deal_id": "\\udfff"}', "metadata: deal_id: not valid Unicode")]:  # fmt: skip
        sent = client.post("/api/webhook/recording", files={"file": ("call.wav", recording)}, headers=quality,
                           data={"script": "b2b_outbound", "metadata": metadata})  # fmt: skip
        assert sent.status_code == 422 and sent.json()["error"].startswith(field), sent.text
    assert client.get("/api/calls", headers=quality).json()["total"] == before  # nothing refused was stored
    call = client.get("/api/calls", headers=quality).json()["items"][0]["id"]
    manager = auth(tokens["manager"])
    for method, path, body, who, why in [
        ("POST", f"/api/calls/{call}/reviews", {"target": "checkpoint:greeting", "verdict": True, "comment": "ok \ud800"},
         quality, "body.comment: Input should be a valid string, unable to parse raw data as a unicode string"),
        ("POST", f"/api/calls/{call}/reviews", {"target": "checkpoint:\udfff", "verdict": True}, quality,
         "body.target: Input should be a valid string"),
        ("POST", f"/api/calls/{call}/disputes", {"target": "checkpoint:greeting", "comment": "\ud800"}, manager,
         "body.comment: Input should be a valid string, unable to parse raw data as a unicode string"),
        ("PUT", f"/api/calls/{call}/hold", {"reason": "\ud800 dispute"}, quality, "body.reason: Input should be a valid string"),
    ]:  # fmt: skip
        content = json.dumps(body).encode()  # ASCII: the surrogate as an escape, as any client may send it
        sent = client.request(method, path, content=content, headers={**who, "Content-Type": "application/json"})
        assert sent.status_code == 422 and sent.json()["error"].startswith(why), (path, sent.text)
    assert client.get(f"/api/calls/{call}", headers=quality).json()["reviews"] == []
    pack = (Path(__file__).parents[1] / "scripts_lib" / "packs" / "b2b_outbound.yaml").read_text()
    for version in (2**63, -1):
        huge = pack.replace("version: 1", f"version: {version}")
        sent = client.post("/api/scripts", files={"file": ("huge.yaml", huge.encode())}, headers=auth(tokens["trainer"]))
        assert sent.status_code == 422 and sent.json()["error"].startswith("huge.yaml:4: version: "), sent.text
