"""Mining a script draft from generated calls with known outcomes: a planted answer to the price
objection that wins deals must come out on top, and the draft must load as a valid pack."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import analysed_calls, run_callqa
from test_analysis import NOISY_GOOD, transcript

from scripts_lib import parse_pack

# Three ways managers answer "too expensive", each said a little differently every time; the
# first (acknowledge, social proof, value) wins most deals, the others (a bare value claim, a
# budget question) fewer.
PLANTED = ["I understand. Many of our clients said the same. It pays for itself in two months.",
           "I understand, many of our client said the same, it pays for it self in two month.",
           "I understand. Many clients said the same, and it pays for itself in two months.",
           "I understand. Many of our clients said the same; it pays for itself within two months."]  # fmt: skip
CLAIM = ["Our quality is the best on the market, what you get for that is worth it.",
         "Our quality is the best in the market and what you get for that is worth it.",
         "Our quality is simply the best on the market, what you get for that is worth it.",
         "The quality is the best on the market, what you get for that is worth the price."]  # fmt: skip
BUDGET = ["What budget do you have in mind for delivery?", "What budget did you have in mind for the delivery?",
          "What kind of budget do you have in mind for delivery?", "Which budget do you have in mind for delivery?"]  # fmt: skip
STYLES = {"planted": (PLANTED, "Anna", [True, True, True, False]),
          "claim": (CLAIM, "Boris", [False, False, True, False]),
          "budget": (BUDGET, "Vera", [True, False, False, False])}  # fmt: skip


def call_with(answer: str) -> list[tuple[str, float, float, str]]:
    turns = list(NOISY_GOOD)
    turns[4] = ("manager", 16.9, 21.0, answer)  # the answer to "it's to expensive for us"
    return turns


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    calls = []
    for answers, name, won in STYLES.values():
        for i, (answer, ok) in enumerate(zip(answers, won, strict=True)):
            at = datetime(2026, 11, 2) + timedelta(days=i, hours=len(calls))
            calls.append((name, at, "won" if ok else "lost", transcript(call_with(answer)).to_dict()))
    return analysed_calls(tmp_path_factory.mktemp("mine"), calls)


def test_the_planted_winning_answer_tops_the_draft(env: dict[str, str], tmp_path: Path) -> None:
    result = run_callqa(env, "mine", "--script", "b2b_outbound", "--since", "2026-11-01", "--json",
                    "--out", str(tmp_path / "draft.yaml"), "--markdown", str(tmp_path / "training.md"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    price = json.loads(result.stdout)["objection:price"]
    assert [len(g["moments"]) for g in price] == [4, 4, 4]  # three groups, each style's four wordings
    best = price[0]
    assert best["representative"] in PLANTED and best["won_rate"] == 0.75 and best["team_rate"] == 5 / 12
    assert {m["manager"] for m in best["moments"]} == {"Anna"} and all(m["start"] == 16.9 for m in best["moments"])
    assert price[-1]["lift"] < 0 < best["lift"]

    text = (tmp_path / "draft.yaml").read_text()
    draft = parse_pack(text, "draft.yaml")  # loads as a valid pack, the next version
    assert draft.version == 2
    [objection] = [o for o in draft.objections if o.id == "price"]
    assert objection.responses == (best["representative"],)  # only the group that beats the team
    assert "# mined: 4 calls, 75% won (team 42%); Anna" in text
    handout = (tmp_path / "training.md").read_text()
    assert "## Objection: Price" in handout and f"1. \u201c{best['representative']}\u201d" in handout
    assert "/calls/" in handout and "#t=16.9" in handout

    checked = run_callqa(env, "script", "check", str(tmp_path / "draft.yaml"))
    assert checked.returncode == 0 and "OK (b2b_outbound v2" in checked.stdout


def test_a_proven_answer_becomes_the_advice_for_that_objection() -> None:
    from analysis import analyze
    from scripts_lib import load_pack

    pack = load_pack("b2b_outbound")
    with_answer = parse_pack(pack.model_dump_json(), "pack.json").model_copy(
        update={"objections": tuple(o.model_copy(update={"responses": (PLANTED[0],)}) if o.id == "price" else o
                                    for o in pack.objections)})  # fmt: skip
    dropped = call_with("Okay.")
    report = analyze(transcript(dropped), with_answer)
    [mistake] = [m for m in report.mistakes if m.code == "unhandled_objection:price"]
    assert mistake.advice.endswith(f"An answer that works here: \u201c{PLANTED[0]}\u201d")


def test_a_trainer_stores_the_mined_draft_from_the_page(env: dict[str, str]) -> None:
    import html
    import re

    from fastapi.testclient import TestClient

    from api import create_app
    from callqa.settings import Settings
    from storage.users import add_user

    app = create_app(Settings.from_env(env))
    add_user(app.state.context.sessions, "trainer", "trainer", "long-password")
    token = add_user(app.state.context.sessions, "Anna", "manager")
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/api/scripts/1/draft", headers={"Authorization": f"Bearer {token}"}).status_code == 403
        client.post("/login", data={"name": "trainer", "password": "long-password"})
        page = client.get("/scripts/1/draft").text
        assert "Objection: Price" in page and "Anna" in page and "edit the draft of version 2" in page
        gaps = page.split('id="gaps-h"')[1].split("</section>")[0]  # what has no group, and why
        assert "Objection: Not the decision maker: no call raised this objection" in gaps
        assert "Objection: Price" not in gaps
        draft = re.search(r'<textarea class="source" id="text" name="text"[^>]*>(.*?)</textarea>', page, re.DOTALL)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert draft and csrf
        stored = client.post("/scripts", data={"text": html.unescape(draft.group(1)), "csrf": csrf.group(1)})
        assert stored.status_code == 303, stored.text
        assert "Stored b2b_outbound version 2" in client.get(stored.headers["location"]).text
        yaml_text = client.get("/api/scripts/1/draft", params={"format": "yaml"}).text
        assert yaml_text.startswith("# Draft of b2b_outbound v2")


def test_a_trainer_takes_the_groups_they_tick_as_the_next_version(env: dict[str, str]) -> None:
    """Accept or reject each group, then store: only the ticked ones go into the new version,
    whatever the machine would have ranked first."""
    import html
    import re

    from fastapi.testclient import TestClient

    from api import create_app
    from callqa.settings import Settings
    from storage.scripts import stored_pack
    from storage.users import add_user

    app = create_app(Settings.from_env(env))
    add_user(app.state.context.sessions, "second-trainer", "trainer", "long-password")
    with TestClient(app, follow_redirects=False) as client:
        client.post("/login", data={"name": "second-trainer", "password": "long-password"})
        page = client.get("/scripts/1/draft").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        boxes = {html.unescape(v): checked for v, checked in
                 re.findall(r'name="chosen" value="([^"]+)" (checked)?', page)}  # fmt: skip
        budget = next(v for v in boxes if v.startswith("objection:price\n") and "budget" in v)
        planted = next(v for v in boxes if v.startswith("objection:price\n") and "pays for itself" in v)
        assert boxes[planted] and not boxes[budget]  # ticked: the groups won more often than the team
        stored = client.post("/scripts/1/draft", data={"chosen": [budget], "csrf": csrf})
        assert stored.status_code == 303, stored.text
        with app.state.context.sessions() as db:  # the next version (another test may have stored one)
            version = stored_pack(db, int(stored.headers["location"].split("/")[2].split("?")[0]))
        assert version.version >= 2 and f"Stored b2b_outbound version {version.version}" in client.get(stored.headers["location"]).text
        [price] = [o for o in version.objections if o.id == "price"]
        assert any("budget" in r for r in price.responses) and not any("pays for itself" in r for r in price.responses)
        nothing = client.post("/scripts/1/draft", data={"csrf": csrf})
        assert nothing.status_code == 422 and "accept at least one group" in html.unescape(nothing.text)


def test_fillers_and_bare_goodbyes_are_no_group() -> None:
    """"Bye." passes the farewell in every call and teaches nothing: it is left out, and the page
    says why there is nothing to propose."""
    from scripts_lib.draft import Analysed, gaps, mine

    def call(n: int, goodbye: str) -> Analysed:
        farewell = {"id": "farewell", "passed": True, "evidence": [{"start": 30.0, "text": goodbye}]}
        return Analysed(n, "Anna", "won", 80.0, {"checkpoints": [farewell], "objections": []})

    calls = [call(n, "Bye.") for n in range(4)]
    groups = mine(calls)
    assert "checkpoint:farewell" not in groups
    assert "too short to teach" in gaps(calls, groups, ["checkpoint:farewell"])["checkpoint:farewell"]
    said = mine([call(n, "Thank you for your time, have a good day.") for n in range(4)])
    assert said["checkpoint:farewell"][0].calls == 4
