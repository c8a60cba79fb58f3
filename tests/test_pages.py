"""The review pages against the real app and a real database: sign-in, roles, CSRF, filters, review, scripts."""

from __future__ import annotations

import csv
import html
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PASSWORD, PATIENCE, site
from fastapi.testclient import TestClient

from callqa.errors import InputError

PAGES = ["/calls", "/calls/1", "/managers", "/managers/Emma", "/kpis", "/leads", "/scripts", "/scripts/1"]


@pytest.fixture
def browser(database: str, tmp_path: Path, cache_dir: Path) -> Iterator[TestClient]:
    app, _ = site(database, tmp_path / "data", cache_dir)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in; the CSRF token the pages' forms carry."""
    response = client.post("/login", data={"name": name, "password": password, "next": "/calls"})
    assert response.status_code == 303 and response.headers["location"] == "/calls", response.text
    page = client.get("/calls").text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def call_id(client: TestClient, manager: str) -> int:
    page = client.get("/calls", params={"manager": manager}).text
    return int(re.search(r'href="/calls/(\d+)"', page).group(1))  # type: ignore[union-attr]


def test_every_page_needs_a_session_and_a_wrong_password_gets_none(browser: TestClient) -> None:
    for path in PAGES:
        response = browser.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/login?next=%2F"
        ), path
    late = browser.post("/calls/1/review", data={"target": "checkpoint:greeting", "verdict": "true"})
    assert late.status_code == 303 and late.headers["location"] == "/login?next=%2Fcalls"
    refused = browser.post("/login", data={"name": "quality-user", "password": "wrong-password"})
    assert (
        refused.status_code == 401
        and "wrong user name or password" in refused.text
        and not refused.cookies
    )
    unknown = browser.post("/login", data={"name": "nobody", "password": "wrong-password"})
    assert unknown.status_code == 401 and "wrong user name or password" in unknown.text
    away = browser.post(
        "/login", data={"name": "quality-user", "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert away.headers["location"] == "/calls"  # never sent to another site
    assert browser.get("/calls").status_code == 200


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_password_guessing_is_stopped_for_a_while(browser: TestClient) -> None:
    clock = [1000.0]
    browser.app.state.throttle.clock = lambda: clock[0]  # type: ignore[attr-defined]

    def attempt(password: str, name: str = "quality-user") -> int:
        return browser.post("/login", data={"name": name, "password": password}).status_code

    assert [attempt(f"guess-{i}") for i in range(5)] == [401] * 5
    refused = browser.post("/login", data={"name": "Quality-User", "password": PASSWORD})
    assert refused.status_code == 429 and "try again in 15 min" in refused.text and not refused.cookies
    assert attempt(PASSWORD, "trainer-user") == 303  # other names are not held up
    clock[0] += 14 * 60
    assert attempt(PASSWORD) == 429 and "try again in 1 min" in browser.post(
        "/login", data={"name": "quality-user", "password": PASSWORD}).text  # fmt: skip
    clock[0] += 61
    assert attempt(PASSWORD) == 303  # the window has passed; and a success clears the count
    assert [attempt("guess") for _ in range(4)] + [attempt(PASSWORD)] == [401] * 4 + [303]


def test_nothing_is_loaded_from_another_host(browser: TestClient) -> None:
    sign_in(browser, "quality-user")
    for path in ("/calls", f"/calls/{call_id(browser, 'Emma')}", "/managers/Emma", "/scripts", "/docs", "/redoc"):
        page = browser.get(path).text
        assert not re.search(r'(src|href)="(https?:)?//', page), path
        for asset in re.findall(r'(?:src|href)="(/static[^"]+)"', page):
            assert browser.get(asset).status_code == 200, asset


def test_calls_list_filters_sorts_and_shows_failed_checkpoints(browser: TestClient) -> None:
    sign_in(browser, "quality-user")
    page = browser.get("/calls", params={"sort": "-score"}).text
    assert "2 found" in page
    assert page.index("won_quick.wav") < page.index("lost_timing_ended.wav")  # best first
    assert re.search(
        r'class="score (good|fair)"[^>]*>\d+</span>', page
    )  # the won call's badge has a band
    assert 'class="chip"' in page and "Agreed next step with a date</a>" in page
    emma = browser.get("/calls", params={"manager": "Emma"}).text
    assert "1 found" in emma and "won_quick.wav" not in emma
    empty = dict.fromkeys(
        (
            "date_from",
            "date_to",
            "manager",
            "script",
            "score_min",
            "score_max",
            "outcome",
            "objection",
            "handled",
            "q",
        ),
        "",
    )  # a form sends every field, set or not
    missed = browser.get(
        "/calls", params=empty | {"failed_checkpoint": "next_step", "sort": "-time"}
    ).text
    assert "lost_timing_ended.wav" in missed and "won_quick.wav" not in missed
    bad = browser.get("/calls", params={"score_min": "lots"})
    assert (
        bad.status_code == 422 and "score_min" in bad.text and "<html" in bad.text
    )  # a page, not JSON


def test_call_page_shows_player_transcript_checklist_objections_mistakes_metrics(
    browser: TestClient,
) -> None:
    sign_in(browser, "quality-user")
    call = call_id(browser, "Emma")
    page = browser.get(f"/calls/{call}").text
    assert f'src="/api/calls/{call}/audio"' in page
    assert re.search(
        r'<span class="w" data-s="[\d.]+" data-e="[\d.]+">\w+', page
    )  # words with their times
    for heading in ("Checklist", "Objections", "Mistakes", "Metrics"):
        assert f">{heading}</h2>" in page
    # A verdict in place on each checklist item and on the objection; optional stages read as such.
    assert page.count('<form class="verdict"') >= 8 and "Verdict on Not now</legend>" in page
    assert "<strong>Not now</strong> — not handled" in page
    assert re.search(r'class="seek mistake" data-seek="[\d.]+"', page)
    assert "Manager talk" in page and "dBFS" in page
    audio = browser.get(
        f"/api/calls/{call}/audio", headers={"Range": "bytes=0-99"}
    )  # the player, signed in
    assert audio.status_code == 206 and len(audio.content) == 100


def test_a_review_through_the_page_changes_the_score_and_needs_the_form_token(
    browser: TestClient,
) -> None:
    csrf = sign_in(browser, "quality-user")
    call = call_id(browser, "Emma")
    form = {
        "target": "checkpoint:next_step",
        "verdict": "true",
        "comment": "They agreed to a call back.",
    }
    forged = browser.post(f"/calls/{call}/review", data=form)  # no token: another site's form
    assert forged.status_code == 403 and "reload the page" in forged.text
    assert "History" not in browser.get(f"/calls/{call}").text  # nothing was stored
    via_api = browser.post(
        f"/api/calls/{call}/reviews", json={"target": "checkpoint:next_step", "verdict": True}
    )
    assert via_api.status_code == 401  # the cookie reads the API; it does not write through it

    missed = "Agreed next step with a date: not found in the call"
    assert missed in browser.get(f"/calls/{call}").text.partition('id="mistakes-h"')[2]
    saved = browser.post(f"/calls/{call}/review", data=form | {"csrf": csrf})
    # Back at the item it was given on.
    assert saved.status_code == 303 and saved.headers["location"] == f"/calls/{call}?done=review#checkpoint-next_step"
    page = browser.get(saved.headers["location"]).text
    before, after = map(float, re.search(r"Saved. Score ([\d.]+) → ([\d.]+)", page).groups())  # type: ignore[union-attr]
    assert after > before and "Reviewed score" in page and "They agreed to a call back." in page
    # The mistakes follow the verdict: the next step no longer costs points.
    assert missed not in page.partition('id="mistakes-h"')[2] and 'id="checkpoint-next_step" class="ok"' in page
    assert (
        "lost_timing_ended.wav"
        not in browser.get("/calls", params={"failed_checkpoint": "next_step"}).text
    )


def test_a_reviewer_takes_out_an_objection_the_client_never_raised(browser: TestClient) -> None:
    csrf = sign_in(browser, "quality-user")
    call = call_id(browser, "Emma")
    page = browser.get(f"/calls/{call}").text
    assert "Verdict on Not now</legend>" in page and ">Not an objection</button>" in page
    assert "lost_timing_ended.wav" in browser.get("/calls", params={"objection": "timing"}).text
    saved = browser.post(f"/calls/{call}/review", data={"target": "raised:timing", "verdict": "false",
                         "comment": "She only asked when we open.", "csrf": csrf})  # fmt: skip
    assert saved.status_code == 303 and saved.headers["location"].endswith("#raised-timing")
    page = browser.get(saved.headers["location"]).text
    before, after = map(float, re.search(r"Saved. Score ([\d.]+) → ([\d.]+)", page).groups())  # type: ignore[union-attr]
    # No objection left: the call is scored on its checkpoints alone, and nothing is "not handled";
    # the objection stays in view as a possible one, to be counted again.
    assert after != before and "The client raised no objection." in page
    possible = page.partition('id="possible-h"')[2]
    assert "<strong>Not now</strong>?" in possible and "reviewer: not raised" in possible
    assert "Not now objection at" not in page.partition('id="mistakes-h"')[2]
    assert "lost_timing_ended.wav" not in browser.get("/calls", params={"objection": "timing"}).text
    # Counted again when the reviewer changes their mind.
    browser.post(f"/calls/{call}/review", data={"target": "raised:timing", "verdict": "true", "csrf": csrf})
    assert "lost_timing_ended.wav" in browser.get("/calls", params={"objection": "timing"}).text


def test_a_reviewer_adds_an_objection_the_machine_missed_on_the_call_page(browser: TestClient) -> None:
    csrf = sign_in(browser, "quality-user")
    call = call_id(browser, "Daniel")
    page = browser.get(f"/calls/{call}").text
    assert "Add an objection the machine missed" in page and '<option value="authority">' in page
    form = {"type": "authority", "at": "0:04", "verdict": "false", "comment": "He has to ask his boss.", "csrf": csrf}
    saved = browser.post(f"/calls/{call}/objections", data=form)
    assert saved.status_code == 303 and saved.headers["location"].endswith("#objections-h")
    page = browser.get(saved.headers["location"]).text
    listed = page.partition('id="objections-h"')[2].partition('id="mistakes-h"')[0]
    assert "reviewer: added" in listed and "not handled" in listed
    assert browser.get("/calls", params={"objection": "authority"}).text.count(f'href="/calls/{call}"') >= 1
    late = browser.post(f"/calls/{call}/objections", data=form | {"at": "99:00"})
    assert late.status_code == 422 and "after the end of the call" in late.text
    wrong = browser.post(f"/calls/{call}/objections", data=form | {"at": "soon"})
    assert wrong.status_code == 422 and "'soon' is not a moment of the call" in html.unescape(wrong.text)


def test_calls_with_unsure_verdicts_are_listed_until_a_reviewer_gives_them(tmp_path: Path) -> None:
    from datetime import datetime

    from conftest import analysed_calls
    from test_analysis import transcript

    from api import create_app
    from callqa.settings import Settings
    from storage.users import add_user

    said = [("manager", 0.5, 3.0, "Hello, my name is Daniel from Brightline Logistics."),
            ("client", 3.5, 6.0, "Right, what is it about?"),
            ("manager", 6.5, 9.0, "We deliver parcels for online shops. How do you ship your orders today?"),
            ("client", 9.5, 12.0, "We use a local courier."),
            ("manager", 12.5, 15.0, "I understand. Could we talk on Tuesday at ten?"),
            ("client", 15.5, 17.0, "Maybe. Goodbye.")]  # fmt: skip
    sure = [("manager", 0.5, 3.0, "Good morning, this is Daniel from Brightline Logistics."),
            ("client", 3.5, 5.0, "Sorry, wrong number."), ("manager", 5.5, 6.5, "Goodbye.")]  # fmt: skip
    env = analysed_calls(tmp_path, [("Daniel", datetime(2026, 11, 23, 9), "lost", transcript(said).to_dict()),
                                    ("Daniel", datetime(2026, 11, 23, 10), "lost", transcript(sure).to_dict())])  # fmt: skip
    app = create_app(Settings.from_env(env))
    add_user(app.state.context.sessions, "quality-user", "quality", PASSWORD)
    with TestClient(app, follow_redirects=False) as client:
        csrf = sign_in(client, "quality-user")
        listed = client.get("/calls", params={"unsure": "true"}).text
        assert 'href="/calls/1"' in listed and 'href="/calls/2"' not in listed and ">2 unsure</a>" in listed
        exported = csv.DictReader(io.StringIO(client.get("/api/calls", params={"format": "csv"}).text))
        assert {row["id"]: row["unsure"] for row in exported} == {"1": "2", "2": "0"}
        # "Hello, my name is..." is a greeting at 0.68; the presentation's nearest sentence at 0.38.
        page = client.get("/calls/1").text
        checklist = page.partition('id="checklist-h"')[2].partition('id="objections-h"')[0]
        assert checklist.count('class="tag unsure"') == 2 and "nearest: " in checklist
        assert "We deliver parcels for online shops." in checklist.partition("nearest: ")[2]
        for target, verdict in (("checkpoint:greeting", "true"), ("checkpoint:presentation", "false")):
            client.post("/calls/1/review", data={"target": target, "verdict": verdict, "csrf": csrf})
        assert 'href="/calls/1"' not in client.get("/calls", params={"unsure": "true"}).text
        assert "unsure</a>" not in client.get("/calls").text
        assert 'class="tag unsure"' not in client.get("/calls/1").text


def test_two_scripts_that_share_item_ids_each_show_their_own_titles(tmp_path: Path) -> None:
    """A team with two products: their packs share ids ("next_step") but not titles. Each call's
    chips name its own script's items, the filters offer each script's items apart, and a filter
    on one script's item lists only that script's calls."""
    from datetime import datetime

    from conftest import analysed_calls
    from test_analysis import transcript

    from api import create_app
    from callqa.settings import Settings
    from pipeline.process import analyse_call
    from pipeline.scripts import store_script
    from scripts_lib import find_pack
    from storage.users import add_user

    wrong_number = transcript([("manager", 0.5, 3.0, "Good morning, this is Daniel from Brightline Logistics."),
                               ("client", 3.5, 5.0, "Sorry, wrong number."), ("manager", 5.5, 6.5, "Goodbye.")]).to_dict()
    env = analysed_calls(tmp_path, [("Daniel", datetime(2026, 11, 23, 9), "lost", wrong_number),
                                    ("Olga", datetime(2026, 11, 23, 10), "lost", wrong_number)], analyse=False)  # fmt: skip
    app = create_app(Settings.from_env(env))
    ctx = app.state.context
    source = find_pack("b2b_outbound").read_text(encoding="utf-8")
    solar = source.replace("id: b2b_outbound", "id: solar_inbound").replace(
        "Agreed next step with a date", "Book the free home assessment").replace("title: Purpose of the call", "title: Ask what brought them")
    analyse_call(ctx, 1, store_script(ctx.sessions, source))
    analyse_call(ctx, 2, store_script(ctx.sessions, solar))
    add_user(ctx.sessions, "quality-user", "quality", PASSWORD)
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, "quality-user")

        def chips(page: str, call: int) -> list[str]:
            row = page.partition(f'href="/calls/{call}"')[2].partition("</tr>")[0]
            return re.findall(r'class="chip" href="[^"]*"[^>]*>([^<]+)</a>', row)

        listed = client.get("/calls").text
        assert {"Agreed next step with a date", "Purpose of the call"} <= set(chips(listed, 1))
        assert {"Book the free home assessment", "Ask what brought them"}.isdisjoint(chips(listed, 1))
        assert {"Book the free home assessment", "Ask what brought them"} <= set(chips(listed, 2))
        assert {"Agreed next step with a date", "Purpose of the call"}.isdisjoint(chips(listed, 2))
        assert html.unescape(listed).count('<optgroup label="solar_inbound">') == 2  # checkpoints, objections
        only_solar = client.get("/calls", params={"script": "solar_inbound"}).text
        assert "Book the free home assessment" in only_solar and '<optgroup label="b2b_outbound">' not in only_solar
        picked = client.get("/calls", params={"failed_checkpoint": "solar_inbound:next_step"}).text
        assert 'href="/calls/2"' in picked and 'href="/calls/1"' not in picked
        assert 'value="solar_inbound:next_step" selected' in picked
        clash = client.get("/calls", params={"script": "b2b_outbound", "failed_checkpoint": "solar_inbound:next_step"})
        assert clash.status_code == 422 and "solar_inbound" in clash.text
        # The team and Numbers pages compare managers within one script, with the script to choose.
        team = client.get("/managers").text  # the most used script (a tie: the first by name)
        assert '<option selected>b2b_outbound</option>' in team and "<option>solar_inbound</option>" in team
        assert 'href="/managers/Daniel"' in team and 'href="/managers/Olga"' not in team
        assert "Agreed next step with a date" in team and "Book the free home assessment" not in team
        solar = client.get("/managers", params={"script": "solar_inbound"}).text
        assert 'href="/managers/Olga"' in solar and 'href="/managers/Daniel"' not in solar
        assert "Book the free home assessment" in solar and "Agreed next step with a date" not in solar
        numbers = client.get("/kpis", params={"period": "2026-W48", "script": "solar_inbound"}).text
        assert 'href="/managers/Olga"' in numbers and 'href="/managers/Daniel"' not in numbers
        assert "Book the free home assessment" in numbers and "script=solar_inbound" in numbers  # the periods keep it
        olga = client.get("/managers/Olga").text  # her own script's numbers
        assert "Book the free home assessment" in olga and "Agreed next step" not in olga
        unknown = client.get("/managers", params={"script": "nothing"})
        assert unknown.status_code == 422 and "no call is scored against it" in unknown.text


def test_calls_heard_as_one_voice_say_so_and_are_listed_apart(tmp_path: Path) -> None:
    """A voicemail scores low for want of a client: the quality department sees why on its page
    and filters such calls in or out of a list (the review queue, worst first, included)."""
    from datetime import datetime

    from conftest import analysed_calls
    from test_analysis import transcript

    from api import create_app
    from callqa.settings import Settings
    from storage.users import add_user

    said = [("manager", 0.5, 4.0, "Hi, this is Anna. Leave a message after the tone.")]
    alone = transcript(said).to_dict() | {"role_method": "single-speaker", "role_confidence": 0.5}
    env = analysed_calls(tmp_path, [("Daniel", datetime(2026, 11, 23, 9), "lost", alone),
                                    ("Daniel", datetime(2026, 11, 23, 10), "lost", transcript(said).to_dict())])  # fmt: skip
    app = create_app(Settings.from_env(env))
    add_user(app.state.context.sessions, "quality-user", "quality", PASSWORD)
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, "quality-user")
        note = "Note: one voice was heard (a voicemail, a monologue)"
        assert note in client.get("/calls/1").text and note not in client.get("/calls/2").text
        listed = client.get("/calls").text
        assert listed.count(">one voice</a>") == 1 and 'href="/calls/1"' in listed
        for one_voice, shown in (("true", "1"), ("false", "2")):
            found = client.get("/review", params={"one_voice": one_voice}).text
            assert re.findall(r'href="/calls/(\d+)"', found) == [shown], one_voice
        assert [c["id"] for c in client.get("/api/calls", params={"one_voice": "true"}).json()["items"]] == [1]


def test_a_dismissed_penalty_is_listed_apart_and_can_be_restored(tmp_path: Path) -> None:
    from datetime import datetime

    from conftest import analysed_calls
    from test_analysis import transcript

    from api import create_app
    from callqa.settings import Settings
    from storage.users import add_user

    said = [("manager", 0.5, 3.0, "Hello, my name is Daniel from Brightline Logistics."),
            ("client", 3.5, 6.0, "Who pays for the lost parcel?"), ("manager", 6.5, 8.0, "Calm down, please."),
            ("client", 8.5, 10.0, "Goodbye.")]  # fmt: skip
    env = analysed_calls(tmp_path, [("Daniel", datetime(2026, 11, 23, 9), "lost", transcript(said).to_dict())])
    app = create_app(Settings.from_env(env))
    add_user(app.state.context.sessions, "quality-user", "quality", PASSWORD)
    with TestClient(app, follow_redirects=False) as client:
        csrf = sign_in(client, "quality-user")
        message = "Said “calm down”"
        counted = lambda page: page.partition('id="mistakes-h"')[2].partition('id="dismissed-h"')[0]
        form = {"target": "mistake:forbidden_phrase@6.5", "csrf": csrf}
        assert message in counted(client.get("/calls/1").text)
        client.post("/calls/1/review", data=form | {"verdict": "false"})
        page = client.get("/calls/1").text
        assert message not in counted(page) and f"<s>{message}" in page.partition('id="dismissed-h"')[2]
        client.post("/calls/1/review", data=form | {"verdict": "true"})  # restored
        page = client.get("/calls/1").text
        assert message in counted(page) and 'id="dismissed-h"' not in page


def test_a_manager_sees_only_their_own_and_can_dispute(browser: TestClient) -> None:
    csrf = sign_in(browser, "quality-user")
    daniels = call_id(browser, "Daniel")
    browser.post("/logout", data={"csrf": csrf})
    assert browser.get("/calls").status_code == 303  # signed out

    csrf = sign_in(browser, "Emma")
    page = browser.get("/calls").text
    assert "lost_timing_ended.wav" in page and "won_quick.wav" not in page
    assert browser.get(f"/calls/{daniels}").status_code == 404
    assert browser.get("/managers/Daniel").status_code == 404
    assert browser.get("/managers").status_code == 403
    own = call_id(browser, "Emma")
    denied = browser.post(
        f"/calls/{own}/review",
        data={"target": "checkpoint:next_step", "verdict": "true", "csrf": csrf},
    )
    assert denied.status_code == 403
    sent = browser.post(
        f"/calls/{own}/dispute",
        data={"target": "objection:timing", "comment": "I offered a call back.", "csrf": csrf},
    )
    assert sent.status_code == 303
    assert "Dispute sent" in browser.get(sent.headers["location"]).text
    mine = browser.get("/managers/Emma").text
    assert (
        'role="img" aria-label="Average score per day, Emma"' in mine
        and "Checkpoint pass rates" in mine
    )


def test_scripts_page_refuses_a_broken_pack_with_the_line_and_stores_an_edit(
    browser: TestClient,
) -> None:
    from scripts_lib import find_pack

    csrf = sign_in(browser, "trainer-user")
    text = find_pack("b2b_outbound").read_text()
    broken = text.replace("    weight: 3\n", "    wieght: 3\n", 1)
    refused = browser.post("/scripts", data={"text": broken, "csrf": csrf})
    assert (
        refused.status_code == 422
        and "unknown key: did you mean &#39;weight&#39;?" in refused.text
        and re.search(r"the edited pack:\d+: checkpoints", refused.text)
    )
    assert "wieght: 3" in refused.text  # the trainer's text is kept for fixing
    page = browser.get("/scripts/1").text
    assert "Edit as version 2" in page and "version: 2" in page
    edited = text.replace("version: 1", "version: 2")
    stored = browser.post("/scripts", data={"text": edited, "csrf": csrf})
    assert stored.status_code == 303
    assert "Stored b2b_outbound version 2" in browser.get(stored.headers["location"]).text
    assert "v2" in browser.get("/scripts").text

    csrf = sign_in(browser, "quality-user")
    assert browser.post("/scripts", data={"text": edited, "csrf": csrf}).status_code == 403


def test_passwords_from_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from storage import connect
    from storage.users import sign_in

    env = {**os.environ, "CALLQA_DATA_DIR": str(tmp_path)}

    def callqa(*args: str, typed: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli", "user", *args], input=typed, env=env,
                              capture_output=True, text=True, timeout=PATIENCE, check=False)  # fmt: skip

    added = callqa("add", "anna", "--role", "quality", "--password", typed="first-secret\nfirst-secret\n")
    assert added.returncode == 0 and len(added.stdout.strip()) >= 40  # the API token, once
    assert "first-secret" not in added.stdout
    short = callqa("password", "anna", "--password", "short")
    assert short.returncode == 2 and "password: at least 8 characters" in short.stderr
    nobody = callqa("password", "nobody", "--password", "long-enough")
    assert nobody.returncode == 2 and "user nobody: no such user" in nobody.stderr
    assert callqa("password", "anna", typed="second-secret\nsecond-secret\n").returncode == 0
    sessions = connect(f"sqlite:///{tmp_path / 'callqa.db'}")
    assert sign_in(sessions, "anna", "second-secret")[1].role == "quality"
    with pytest.raises(InputError, match="wrong user name or password"):
        sign_in(sessions, "anna", "first-secret")


def test_the_review_queue_and_a_disputes_round_trip(browser: TestClient) -> None:
    csrf = sign_in(browser, "quality-user")
    landing = browser.get("/")  # a reviewer's day starts at the queue, worst first
    assert landing.headers["location"] == "/review"
    queue = browser.get("/review").text
    assert "2 waiting, worst first" in queue
    assert queue.index("lost_timing_ended.wav") < queue.index("won_quick.wav")
    emmas, daniels = call_id(browser, "Emma"), call_id(browser, "Daniel")
    assert f'href="/calls/{daniels}" rel="next"' in browser.get(f"/calls/{emmas}").text
    browser.post("/logout", data={"csrf": csrf})

    csrf = sign_in(browser, "Emma")
    assert browser.get("/").headers["location"] == "/calls"
    sent = browser.post(f"/calls/{emmas}/dispute",
                        data={"target": "objection:timing", "comment": "I offered a call back.", "csrf": csrf})  # fmt: skip
    assert sent.status_code == 303
    browser.post("/logout", data={"csrf": csrf})

    csrf = sign_in(browser, "quality-user")
    inbox = browser.get("/disputes").text
    assert 'aria-label="1 waiting for an answer"' in inbox  # the badge in the navigation
    assert "I offered a call back." in inbox and "Waiting for an answer" in inbox
    assert "I offered a call back." in browser.get("/disputes", params={"manager": "Emma"}).text
    assert "No disputes here." in browser.get("/disputes", params={"manager": "Daniel"}).text
    nobody = browser.get("/disputes", params={"manager": "Nobody"})
    assert nobody.status_code == 422 and "manager &#39;Nobody&#39;: no such manager" in nobody.text
    page = browser.get(f"/calls/{emmas}").text
    assert "Disputed by Emma" in page and '<span class="state disputed">disputed</span>' in page
    dispute = re.search(r'name="answers" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    answered = browser.post(f"/calls/{emmas}/review", data={"target": "objection:timing", "verdict": "true",
                            "answers": dispute, "comment": "Agreed: a call back was offered.", "csrf": csrf})  # fmt: skip
    assert answered.status_code == 303
    assert "waiting for an answer" not in browser.get("/calls").text  # no badge
    queue = browser.get("/review").text
    assert "1 waiting, worst first" in queue and "lost_timing_ended.wav" not in queue
    assert "Nothing waits" in browser.get("/review", params={"manager": "Emma"}).text
    browser.post("/logout", data={"csrf": csrf})

    sign_in(browser, "Emma")  # the manager sees the answer
    mine = browser.get("/disputes", params={"state": "answered"}).text
    assert "Answered by <strong>quality-user</strong>" in mine and "Agreed: a call back was offered." in mine
    page = browser.get(f"/calls/{emmas}").text
    assert "dispute answered" in page and "answered the dispute" in page
    # A manager's filter is their own: no name tells whether a colleague exists.
    colleague, nobody = (browser.get("/disputes", params={"state": "answered", "manager": name}) for name in ("Daniel", "Zed"))
    assert colleague.status_code == nobody.status_code == 200
    assert "Agreed: a call back was offered." in colleague.text and "Agreed: a call back was offered." in nobody.text


def test_finishing_a_review_confirms_the_rest_and_moves_the_queue_on(browser: TestClient) -> None:
    """One action ends a call's review: the verdicts left as they are count as kept in the
    agreement rate, the call leaves the queue and the next one opens. Only the quality
    department has a queue."""
    csrf = sign_in(browser, "quality-user")
    emmas, daniels = call_id(browser, "Emma"), call_id(browser, "Daniel")
    page = browser.get(f"/calls/{emmas}").text
    assert f'action="/calls/{emmas}/finish"' in page and "Finish review" in page
    # The machine's verdict comes first on every item: a missed stage's "A mistake" before "Not a mistake".
    mistakes = page.partition('id="mistakes-h"')[2]
    assert mistakes.index(">A mistake</button>") < mistakes.index(">Not a mistake</button>")
    browser.post(f"/calls/{emmas}/review", data={"target": "objection:timing", "verdict": "true", "csrf": csrf})
    finished = browser.post(f"/calls/{emmas}/finish", data={"csrf": csrf})
    assert finished.status_code == 303 and finished.headers["location"] == f"/calls/{daniels}?finished={emmas}"
    assert f"Review of call {emmas} finished" in browser.get(finished.headers["location"]).text
    assert "lost_timing_ended.wav" not in browser.get("/review").text
    today = browser.get(f"/calls/{emmas}").text
    assert '<span class="state reviewed">reviewed</span>' in today and 'action="/calls/{emmas}/finish"' not in today
    sample = browser.get("/review", params={"sample": "5"}).text  # today's calls
    kept = re.search(r"kept the machine's verdict (\d+) times of (\d+)", sample)
    assert kept and int(kept.group(2)) > 1 and int(kept.group(1)) == int(kept.group(2)) - 1  # all but the override
    browser.post("/logout", data={"csrf": csrf})

    csrf = sign_in(browser, "Emma")
    assert browser.get("/review").status_code == 403
    page = browser.get(f"/calls/{emmas}").text
    assert 'rel="next"' not in page and "Finish review" not in page
    browser.post(f"/calls/{emmas}/dispute", data={"target": "checkpoint:greeting", "comment": "I did greet.", "csrf": csrf})
    browser.post("/logout", data={"csrf": csrf})
    csrf = sign_in(browser, "quality-user")
    refused = browser.post(f"/calls/{emmas}/finish", data={"csrf": csrf})
    assert refused.status_code == 422 and "answer it before finishing" in html.unescape(refused.text)


def test_a_random_sample_shows_how_often_reviewers_agree_and_the_list_exports(browser: TestClient) -> None:
    csrf = sign_in(browser, "quality-user")
    emmas = call_id(browser, "Emma")
    sampled = browser.get("/review", params={"sample": "1"}).text  # today's calls, one per manager
    assert "2 calls drawn at random within score bands; 0 reviewed (0%)" in sampled
    assert "No verdicts on them yet" in sampled
    for target, verdict in (("checkpoint:greeting", "true"), ("checkpoint:next_step", "true")):  # kept; overridden
        browser.post(f"/calls/{emmas}/review", data={"target": target, "verdict": verdict, "csrf": csrf})
    sampled = browser.get("/review", params={"sample": "1"}).text
    assert "1 reviewed (50%)" in sampled and "kept the machine's verdict 1 times of 2 (50% agreement)" in sampled
    # Apart for the verdicts it was sure of and those it marked unsure (which these are moves with
    # the recognised words: the next step came near, at 0.41, with AVX2 kernels).
    split = re.search(r"(\d+) of the (\d+) it was sure of(?:, (\d+) of the (\d+) it marked unsure)?", sampled)
    kept, sure, kept_unsure, unsure = (int(n or 0) for n in split.groups())  # type: ignore[union-attr]
    assert (kept + kept_unsure, sure + unsure) == (1, 2)

    exported = browser.get("/api/calls", params={"format": "csv", "review": "reviewed"})
    assert exported.headers["content-disposition"] == 'attachment; filename="calls.csv"'
    [row] = csv.DictReader(io.StringIO(exported.text))  # the filter holds: only the reviewed call
    assert (row["file"], row["manager"], row["review"]) == ("lost_timing_ended.wav", "Emma", "reviewed")
    assert row["url"] == f"http://testserver/calls/{emmas}" and "next_step" not in row["failed_checkpoints"]
    assert float(row["score"]) == float(browser.get(f"/api/calls/{emmas}").json()["reports"][0]["reviewed_score"])

    found = browser.get(f"/calls/{emmas}", params={"q": "busy"}).text  # from a transcript search
    assert re.search(r"<mark>busy</mark>", found) and "<mark>" not in browser.get(f"/calls/{emmas}").text


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_call_heard_as_one_voice_is_heard_again_as_two_when_a_reviewer_says_so(
    database: str, tmp_path: Path, cache_dir: Path
) -> None:
    """A mono dialogue of two espeak-ng voices, as alike as one speaker's turns, is heard as one
    voice: every word the manager's, the client's side unchecked. The reviewer who hears two asks
    for it on the call's page; with no worker it runs in the server, and the call comes back
    diarized and analysed again, its old reviews no longer counting."""
    audio = Path(__file__).parent / "fixtures" / "audio" / "outbound_en.mono.wav"
    app, tokens = site(database, tmp_path / "data", cache_dir, recordings=((audio, "Daniel", "won"),))
    quality = {"Authorization": f"Bearer {tokens['quality']}"}
    with TestClient(app, follow_redirects=False) as client:
        before = client.get("/api/calls/1", headers=quality).json()
        assert before["transcript"]["role_method"] == "single-speaker" and before["reports"][0]["one_voice"]
        assert {u["speaker"] for u in before["transcript"]["utterances"]} == {"manager"}
        reviewed = client.post("/api/calls/1/reviews", headers=quality, json={"target": "checkpoint:greeting", "verdict": True})
        assert reviewed.status_code == 201, reviewed.text
        refused = client.post("/api/calls/1/two-voices", headers={"Authorization": f"Bearer {tokens['manager']}"})
        assert refused.status_code == 403 and "needs the role admin or quality" in refused.json()["error"]

        csrf = sign_in(client, "quality-user")
        page = client.get("/calls/1").text
        assert "Two voices: hear it again" in page
        asked = client.post("/calls/1/two-voices", data={"csrf": csrf})
        assert asked.status_code == 303 and asked.headers["location"] == "/calls/1"

        after = client.get("/api/calls/1", headers=quality).json()
        assert after["transcript"]["role_method"] == "diarization"
        assert {u["speaker"] for u in after["transcript"]["utterances"]} == {"manager", "client"}
        [report] = after["reports"]
        assert not report["one_voice"] and report["reviewed_score"] is None  # new verdicts, not yet reviewed
        assert [(j["kind"], j["state"]) for j in after["jobs"]][-1] == ("two_voices", "done")
        words = [[w["word"] for u in t["utterances"] for w in u["words"]] for t in (before["transcript"], after["transcript"])]
        assert words[0] == words[1]  # the same words, now in two voices
        page = client.get("/calls/1").text
        assert "Two voices: hear it again" not in page and "one voice was heard" not in page
        assert 'class="utt client"' in page

        again = client.post("/api/calls/1/two-voices", headers=quality)
        assert again.status_code == 422
        assert again.json()["error"] == "call 1 was not heard as one voice: its two speakers are already apart"

    # The job run a second time, as a retry after a database error or a redelivery after a
    # worker died once the transcript was stored: it analyses, rather than failing the job.
    from sqlalchemy import select

    from pipeline.process import hear_as_two
    from storage.models import Job

    ctx = app.state.context
    with ctx.sessions() as db:
        job = db.scalars(select(Job).where(Job.kind == "two_voices")).one()
    assert hear_as_two(ctx, 1, job.script_id) == report["score"]


def test_names_that_could_mislead_a_reviewer_are_marked(browser: TestClient, tmp_path: Path) -> None:
    """A manager "Аlice" whose first letter is Cyrillic, beside the real Alice, and a file name
    whose right-to-left override makes "invoice\u202egpj.wav" read as "invoicevaw.jpg": each is
    shown with a visible mark saying why, the override as a code, on every page that names them."""
    import shutil

    from conftest import CALLS

    from pipeline.metadata import CallInfo
    from pipeline.process import ingest

    context = browser.app.state.context  # type: ignore[attr-defined]
    for name, manager in (("alice.wav", "Alice"), ("invoice\u202egpj.wav", "\u0410lice")):
        copy = tmp_path / "copy.wav"
        shutil.copy(CALLS / "won_quick.8k.wav", copy)
        with copy.open("ab") as f:
            f.write(name.encode())  # another recording, not the same one again
        ingest(context, copy, name, CallInfo(manager=manager))
    sign_in(browser, "quality-user")
    listed = browser.get("/calls").text
    mark = '<span class="odd-name" title="{}">⚠ {}</span>'
    assert mark.format("its letters mix scripts (Cyrillic and Latin) in one word", "\u0410lice") in listed
    assert mark.format("it holds invisible control characters, shown as codes", "invoice⟨U+202E⟩gpj.wav") in listed
    assert ">Alice<" in listed and "alice.wav" in listed  # the real ones unmarked
    assert "\u202e" not in listed
    odd = int(re.search(r'href="/calls/(\d+)">[^<]*<span class="odd-name"', listed).group(1))  # type: ignore[union-attr]
    page = browser.get(f"/calls/{odd}").text
    assert "<title>⚠ invoice⟨U+202E⟩gpj.wav" in page and "\u202e" not in page
    assert mark.format("its letters mix scripts (Cyrillic and Latin) in one word", "\u0410lice") in page
    assert "value=\"\u0410lice\">⚠ \u0410lice</option>" in listed  # the filter's choices
