"""The pages in a real browser: Debian's Chromium, headless, driven by Playwright, against a real server.

Sign in, filter the list, open a call, click a mistake (the audio moves there, the word lights up),
and save a review (the score changes). ``CALLQA_SCREENSHOT=FILE`` also saves the call page as a PNG.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, in_thread, site

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless, and no calls home: this machine has no network, and Chromium would keep trying.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"]  # fmt: skip


@pytest.fixture
def server(tmp_path: Path, cache_dir: Path) -> Iterator[str]:
    app, _ = site(f"sqlite:///{tmp_path / 'data' / 'callqa.db'}", tmp_path / "data", cache_dir)
    with in_thread(app) as url:
        yield url


def wait_until(page: Any, expression: str, timeout: float = 15.0) -> None:
    """Poll ``expression`` in the page until it is true. (Playwright's wait_for_function compiles
    its predicate with eval, which the pages' content security policy rightly refuses.) Right
    after a click that navigates, the next page and its elements may not be there yet."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except Error:  # the page is still loading: its element is not there yet
            pass
        assert time.monotonic() < deadline, f"never true: {expression}"
        page.wait_for_timeout(100)


def sign_in(page: Any, url: str, name: str = "quality-user") -> None:
    """Sign in as ``name`` at ``url`` (a login page, maybe with its ``next``)."""
    page.goto(url)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_review_a_call_in_chromium(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto(f"{server}/calls")
        expect(page).to_have_url(f"{server}/login?next=%2Fcalls")
        page.get_by_label("User name").fill("quality-user")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("table.calls tbody tr")).to_have_count(2)

        page.get_by_label("Manager").select_option("Emma")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("table.calls tbody tr")).to_have_count(1)
        page.get_by_role("link", name="lost_timing_ended.wav").click()

        player = page.locator("#player")
        # Nothing is fetched until someone plays: the access log counts plays, not page views.
        assert page.evaluate("document.getElementById('player').readyState") == 0
        mistake = page.locator("button.mistake").last
        seek = float(mistake.get_attribute("data-seek") or "nan")
        assert seek > 1
        mistake.click()
        wait_until(page, f"Math.abs(document.getElementById('player').currentTime - {seek}) < 1")
        player.evaluate("audio => audio.pause()")
        # currentTime takes the seek before the recording's metadata has come; its duration then
        # reads NaN until it does
        wait_until(page, "document.getElementById('player').duration > 10")
        lit = page.locator(".w.now")
        expect(lit).to_have_count(1)
        assert abs(float(lit.get_attribute("data-s") or "nan") - seek) < 2.5  # the word said there

        first = page.locator(".utt .seek").first  # by keyboard: a sentence's time is a button
        first.focus()
        page.keyboard.press("Enter")
        wait_until(page, "document.getElementById('player').currentTime < 1")
        player.evaluate("audio => audio.pause()")
        if os.environ.get("CALLQA_SCREENSHOT"):
            page.locator("button.mistake").first.click()
            page.wait_for_timeout(1500)
            player.evaluate("audio => audio.pause()")
            page.set_viewport_size({"width": 1400, "height": 1160})
            page.screenshot(path=os.environ["CALLQA_SCREENSHOT"])
            page.set_viewport_size({"width": 1400, "height": 900})

        # Keys: j to the next mistake, the right arrow 5 s on; the speed menu.
        player.evaluate("audio => { audio.pause(); audio.currentTime = 0; }")
        first = min(float(t or "nan") for t in page.locator(".mistakes .seek").evaluate_all("bs => bs.map(b => b.dataset.seek)"))
        page.locator("h1").click()  # nothing that takes keys has the focus
        page.keyboard.press("j")
        wait_until(page, f"Math.abs(document.getElementById('player').currentTime - {first}) < 0.5")
        player.evaluate("audio => audio.pause()")
        page.keyboard.press("ArrowRight")
        wait_until(page, f"Math.abs(document.getElementById('player').currentTime - {first + 5}) < 0.5")
        page.get_by_label("Speed").select_option("1.5")
        assert page.evaluate("document.getElementById('player').playbackRate") == 1.5

        # Every checklist verdict in place, without a reload: the machine's confirmed, the next step overridden.
        before = float(page.locator("#score .score").inner_text())
        missed = "Agreed next step with a date: not found in the call"
        expect(page.locator(".mistakes")).to_contain_text(missed)
        page.evaluate("window.notReloaded = true")
        items = page.locator(".checklist > li").evaluate_all("lis => lis.map(li => [li.id, li.className])")
        started = time.monotonic()
        for n, (item_id, state) in enumerate(items, 1):
            item = page.locator(f"#{item_id}")
            if item_id == "checkpoint-next_step":
                item.get_by_role("textbox").fill("The call back on Tuesday is a next step.")
            said = state == "ok" or item_id == "checkpoint-next_step"
            item.get_by_role("button", name="Said" if said else "Not said", exact=True).click()
            wait_until(page, f"document.querySelectorAll('.history li').length === {n}")
        print(f"{len(items)} verdicts, {(time.monotonic() - started) / len(items):.2f} s each")
        assert len(items) == 7 and page.evaluate("window.notReloaded === true")
        expect(page.get_by_role("status")).to_contain_text("Saved. Score")
        after = float(page.locator("#score .score").inner_text())
        assert after > before
        expect(page.locator(".history")).to_contain_text("The call back on Tuesday is a next step.")
        expect(page.locator("#checkpoint-next_step")).to_have_class("ok")
        expect(page.locator(".mistakes")).not_to_contain_text(missed)
        expect(page.locator(".call-head")).to_contain_text("reviewed")

        # An objection the machine missed, at the moment the player has reached.
        player.evaluate("audio => { audio.pause(); audio.currentTime = 4.2; }")
        adding = page.locator("details.add-objection")
        adding.locator("summary").click()
        adding.get_by_role("button", name="Where the player is").click()
        expect(adding.get_by_label("At")).to_have_value("0:04.2")
        adding.get_by_label("Type").select_option("authority")
        adding.get_by_role("button", name="Not handled").click()
        expect(page.locator("#objections-h + .timeline + ol.objections")).to_contain_text("reviewer: added")
        expect(page.locator(".mistakes")).to_contain_text("Not the decision maker objection at 00:0")

        page.get_by_role("link", name="Leads").click()  # Emma's lost call left "not now" unhandled
        lead = page.locator("table.leads tbody a").first
        moment = float((lead.get_attribute("href") or "").partition("#t=")[2])
        lead.click()
        wait_until(page, f"Math.abs(document.getElementById('player').currentTime - {moment}) < 0.5")

        page.goto(f"{server}/scripts/1/draft")  # as the quality department: what works, read-only
        expect(page.locator("section.mined").first).to_be_visible()
        expect(page.locator("#draft-h")).to_have_count(0)

        page.get_by_role("link", name="Numbers").click()  # the KPI table of the newest call's week
        expect(page.locator("table.kpis tbody tr")).to_have_count(2)
        expect(page.get_by_role("row", name="Emma")).to_contain_text("Emma")
        assert not errors, errors
        browser.close()


def test_the_queue_and_a_disputes_round_trip_in_chromium(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        emma = browser.new_context().new_page()  # the manager disputes a verdict on her call
        sign_in(emma, f"{server}/login", "Emma")
        emma.get_by_role("link", name="lost_timing_ended.wav").click()
        disputed = emma.locator("#objection-timing details.dispute").first  # beside the item, not at the page's end
        disputed.locator("summary").click()
        disputed.get_by_label("Why the verdict on Not now is wrong", exact=True).fill("I offered to call back on Tuesday.")
        disputed.get_by_role("button", name="Send the dispute").click()
        expect(emma.get_by_role("status")).to_contain_text("Dispute sent")

        reviewer = browser.new_context().new_page()
        sign_in(reviewer, f"{server}/login")
        expect(reviewer).to_have_url(f"{server}/review")  # the queue, worst first: one click to the worst call
        expect(reviewer.get_by_role("link", name="Disputes")).to_contain_text("1")
        worst = reviewer.locator("table.calls tbody tr").first
        expect(worst).to_contain_text("disputed")
        worst.get_by_role("link").first.click()
        expect(reviewer.locator("#objection-timing .dispute-note")).to_contain_text("I offered to call back on Tuesday.")
        item = reviewer.locator("#objection-timing")
        item.get_by_label("Comment on Not now", exact=True).fill("Yes: a call back on a day is handling it.")
        item.get_by_role("button", name="Handled", exact=True).click()
        expect(reviewer.locator(".history")).to_contain_text("answered the dispute")
        expect(reviewer.locator(".call-head")).to_contain_text("dispute answered")
        expect(reviewer.get_by_role("link", name="Disputes")).to_have_text("Disputes")  # none waits now

        emma.goto(f"{server}/disputes?state=answered")  # the manager sees the answer
        expect(emma.locator(".disputes .answer")).to_contain_text("Yes: a call back on a day is handling it.")
        browser.close()


def test_two_quick_verdicts_both_count_and_enter_never_picks_one_in_chromium(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(page, f"{server}/login")
        page.get_by_role("link", name="lost_timing_ended.wav").click()
        machine = float(page.locator("#score .score").inner_text())

        # Enter in a comment box ends the line; it gives no verdict.
        greeting = page.locator("#checkpoint-greeting")
        greeting.get_by_role("textbox").fill("Clear and friendly.")
        greeting.get_by_role("textbox").press("Enter")
        page.wait_for_timeout(700)
        expect(page.locator(".history li")).to_have_count(0)

        # Two verdicts on two items, the second clicked before the first is saved.
        page.locator("#checkpoint-next_step").get_by_role("button", name="Said", exact=True).click()
        page.locator("#objection-timing").get_by_role("button", name="Handled", exact=True).click(force=True)
        wait_until(page, "document.querySelectorAll('.history li').length === 2")
        expect(page.locator("#checkpoint-next_step")).to_have_class("ok")
        expect(page.locator("#objection-timing .saved")).to_contain_text("Saved. Score")
        page.reload()
        expect(page.locator(".history li")).to_have_count(2)
        steps = [(float(a), float(b)) for a, b in re.findall(r"score ([0-9.]+) → ([0-9.]+)", page.locator(".history").inner_text())]
        assert len(steps) == 2 and abs(steps[0][0] - machine) <= 0.5  # the first started from the machine's score,
        assert steps[1][0] == steps[0][1] < steps[1][1]  # the second where the first ended
        second = steps[1][1]
        assert abs(float(page.locator("#score .score").inner_text()) - second) <= 0.5
        assert not errors, errors
        browser.close()


def test_the_review_pages_fit_a_phone_in_chromium(server: str) -> None:
    """At 390×844 no page is wider than the screen, the navigation folds behind "Menu", the
    filters fold away, buttons are at least 44 px tall, and the player stays at the top while
    the verdicts scroll."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        sign_in(page, f"{server}/login")
        expect(page).to_have_url(f"{server}/review")
        call = page.locator("table.calls a[href^='/calls/']").first.get_attribute("href")
        for path in ("/review", call, "/disputes", "/kpis"):
            page.goto(f"{server}{path}")
            width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], (path, width)
            short = page.evaluate("""[...document.querySelectorAll('button, select, summary, .fold-label, nav a')]
                .filter(e => e.getClientRects().length && e.getBoundingClientRect().height < 44)
                .map(e => e.outerHTML.slice(0, 80))""")  # fmt: skip
            assert not short, (path, short)

        page.goto(f"{server}/review")
        numbers = page.get_by_role("link", name="Numbers")
        expect(numbers).to_be_hidden()
        page.get_by_text("Menu", exact=True).click()
        expect(numbers).to_be_visible()
        expect(page.get_by_label("Manager", exact=True)).to_be_hidden()  # the filters, folded
        page.locator("label[for=filters-shown]").click()
        expect(page.get_by_label("Manager", exact=True)).to_be_visible()

        page.goto(f"{server}{call}")
        page.locator("#mistakes-h").scroll_into_view_if_needed()
        top = page.evaluate("document.querySelector('.player').getBoundingClientRect().top")
        assert page.evaluate("window.scrollY") > 500 and abs(top) < 1
        browser.close()


def test_a_gsm_recording_plays_in_chromium(tmp_path: Path, cache_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    from pipeline.metadata import CallInfo
    from pipeline.process import ingest

    gsm = Path(__file__).parent / "fixtures" / "audio" / "outbound_en.gsm.wav"  # older PBXs: GSM 6.10
    app, _ = site(f"sqlite:///{tmp_path / 'data' / 'callqa.db'}", tmp_path / "data", cache_dir, recordings=())
    ingest(app.state.context, gsm, gsm.name, CallInfo(manager="Daniel"))  # stored: playing needs no transcript
    with in_thread(app) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        sign_in(page, f"{url}/login?next=/calls")
        page.get_by_role("link", name="outbound_en.gsm.wav").click()
        page.locator("#player").evaluate("audio => { audio.play(); }")
        wait_until(page, "document.getElementById('player').currentTime > 0.5")
        assert page.evaluate("document.getElementById('player').error") is None
        assert page.evaluate("document.getElementById('player').duration") > 20
        browser.close()


def test_a_reviewer_hears_a_one_voice_call_as_two_in_chromium(tmp_path: Path, cache_dir: Path) -> None:
    """The call page of a mono dialogue heard as one voice: the reviewer clicks "Two voices", is
    told it is being heard again, and on reloading finds the client's turns apart."""
    from playwright.sync_api import expect, sync_playwright

    mono = Path(__file__).parent / "fixtures" / "audio" / "outbound_en.mono.wav"
    app, _ = site(f"sqlite:///{tmp_path / 'data' / 'callqa.db'}", tmp_path / "data", cache_dir,
                  recordings=((mono, "Daniel", "won"),))  # fmt: skip
    with in_thread(app) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(page, f"{url}/login?next=/calls/1")
        expect(page.get_by_text("one voice was heard")).to_be_visible()
        expect(page.locator("li.utt.client")).to_have_count(0)
        page.get_by_role("button", name="Two voices: hear it again").click()
        expect(page).to_have_url(f"{url}/calls/1")
        expect(page.get_by_text("Being heard again as two voices")).to_be_visible()
        deadline = time.monotonic() + 120
        while page.get_by_text("Being heard again as two voices").count():  # the server hears it after answering
            assert time.monotonic() < deadline, page.content()
            page.wait_for_timeout(500)
            page.reload()
        expect(page.locator("li.utt.client").first).to_be_visible()
        expect(page.get_by_text("one voice was heard")).to_have_count(0)
        expect(page.get_by_role("button", name="Two voices: hear it again")).to_have_count(0)
        assert not errors, errors
        browser.close()


def test_every_page_passes_the_axe_accessibility_checks(server: str) -> None:
    """axe-core's checks (labels, contrast, keyboard reach, landmarks) on every page, as a reviewer
    (the review form) and as a trainer (the script editor)."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    found = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for user in ("quality-user", "trainer-user"):
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()  # a laptop
            page.goto(f"{server}/login")
            found["/login"] = Axe().run(page).response["violations"]
            page.get_by_label("User name").fill(user)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            call = page.locator("table.calls tbody a").first.get_attribute("href")
            for path in ("/review", "/disputes", "/calls", call, "/managers", "/managers/Emma", "/kpis", "/leads",
                         "/scripts", "/scripts/1", "/scripts/1/draft"):
                page.goto(f"{server}{path}")
                found[f"{user} {path}"] = Axe().run(page).response["violations"]
        browser.close()
    assert len(found) == 23
    problems = {path: [(v["id"], v["impact"], [n["html"][:100] for n in v["nodes"]]) for v in violations]
                for path, violations in found.items() if violations}  # fmt: skip
    assert not problems, json.dumps(problems, indent=1)
