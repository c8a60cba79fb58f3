"""Verdicts by meaning on a trainer's own pack: the development set's calls of two products.

The packs and calls are read from ``../shared/data/devset`` (the trainers' packs are fixed).
The weights that combine the ways of matching are fitted on one product and measured on the
other, in both directions: nothing here is scored with weights fitted on its own calls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PATIENCE
from test_analysis import report_of, transcript

from analysis.analyze import analyze
from analysis.evaluate import reference_transcript
from analysis.semantic import UniversalSentenceEncoder
from callqa.errors import InputError
from scripts_lib import load_pack
from scripts_lib.draft import Analysed, mine

ROOT = Path(__file__).resolve().parents[1]
DEVSET = Path(os.environ.get("CALLQA_DEVSET_DIR") or ROOT.parent / "shared" / "data" / "devset")
if not DEVSET.is_dir():
    raise RuntimeError(f"the development set belongs in {DEVSET}: shared/ beside the checkout")
sys.path.insert(0, str(ROOT / "bench"))

import meaning as bench


def test_the_issues_paraphrases_are_found_by_meaning_and_missed_by_wording() -> None:
    pack = load_pack(DEVSET / "packs" / "fleettrack.yaml")
    call = reference_transcript(DEVSET / "fleettrack" / "d1_01.json", "en")
    report = analyze(call, pack)
    evidence = {c.id: [e.text for e in c.evidence] for c in report.checkpoints if c.passed}
    assert evidence["greeting"][0] == "Hi, is that Lorna?"
    assert evidence["introduction"][0] == "Dave here, with FleetTrack."
    assert any("idle report" in t or "live on a map" in t for t in evidence["presentation"])
    assert any("next Tuesday, say eight o'clock" in t for t in evidence["next_step"])
    assert not any("confirmation this afternoon" in t for t in evidence["greeting"])
    [price] = report.objections
    assert price.type == "price" and "can't stretch" in price.text and price.handled
    assert report.metrics.next_step_agreed is True
    # Wording alone, as before: the same call misses four stages and the objection.
    lexical = analyze(call, pack, encoder=None)
    assert {c.id for c in lexical.checkpoints if not c.passed} >= {"introduction", "presentation"}
    assert not lexical.objections and lexical.score < report.score - 40


def test_pushback_of_no_type_is_offered_to_the_reviewer_and_counts_once_confirmed() -> None:
    pack = load_pack(DEVSET / "packs" / "fleettrack.yaml")
    call = reference_transcript(DEVSET / "fleettrack" / "d1_05.json", "en")
    report = analyze(call, pack)
    # The labels have price and authority; "it's not my call" is far from "it's not my decision"
    # in meaning, so the authority objection is not counted, but the pushback model is sure the
    # client pushed back there: it is offered as a possible objection of no type, to be heard.
    assert [o.type for o in report.objections] == ["price"]
    [other] = [o for o in report.possible_objections if o.type == "other"]
    assert "not my call on the full rollout" in other.text and other.title == "Other pushback"
    assert other.confidence >= 0.7 and other.response is not None
    # A reviewer who hears it counts it (or adds it with its type: tests/test_objections.py); one
    # who hears no price objection takes that out.
    confirmed = analyze(call, pack, overrides={"raised:other": True, "objection:other": False})
    assert [o.type for o in confirmed.objections] == ["price", "other"]
    assert "unhandled_objection:other" in {m.code for m in confirmed.mistakes}
    assert confirmed.score < report.score and "other" not in {o.type for o in confirmed.possible_objections}
    taken_out = analyze(call, pack, overrides={"raised:price": False})
    assert not taken_out.objections and "objections" not in {s.id for s in taken_out.stages}
    with pytest.raises(InputError, match="review target 'raised:trust'"):
        analyze(call, pack, overrides={"raised:trust": True})  # neither raised nor possible


@pytest.mark.parametrize("product", ["fleettrack", "brightnest"])
def test_weights_fitted_on_the_other_product_hold_on_this_ones_reference_text(product: str) -> None:
    devset = bench.Devset(DEVSET, bench.Settings.from_env())
    other = [p for p in devset.products if p != product]
    result = bench.measure(devset, product, "text", bench.fitted(devset, other, ["text"]))
    # Floors a little under what this measured, fitted on the other product's reference text
    # (FleetTrack 0.91 / 0.75 / 1.00 / 0.89, BrightNest 0.94 / 0.74 / 0.90 / 0.93); with wording
    # only, as before: FleetTrack 0.47 / 0.26 / - / 0.86, BrightNest 0.62 / 0.40 / - / 0.50.
    assert result["checkpoint_f1"] >= 0.88, result["checkpoints"]
    assert result["objection_f1"] >= 0.68, result["objections"]
    assert result["handled_accuracy"] >= 0.85
    assert result["separation"]["auc"] >= 0.85, result["separation"]
    # The verdicts marked unsure hold over half the wrong ones (8 of 14 and 14 of 21) in an eighth
    # to a quarter of all verdicts (0.13 and 0.23): what a reviewer should hear first.
    unsure = result["unsure"]
    assert unsure["wrong_unsure"] >= 0.5 * unsure["wrong"] and unsure["unsure"] <= 0.3 * unsure["verdicts"], unsure


# The four won FleetTrack calls that answer the price objection with one idea in different words,
# a free pilot on three trucks (the first comment of the set's fleettrack_dialogues.py names them).
PILOT = {"d1_01", "d1_05", "d1_09", "d1_15"}


def test_mining_the_fleettrack_calls_puts_their_free_pilot_on_top_of_the_price_answers() -> None:
    devset = bench.Devset(DEVSET, bench.Settings.from_env())
    models = bench.fitted(devset, ["brightnest"], ["text"])
    pack, names, calls = devset.pack("fleettrack"), [], []
    for name, labels, call in devset.calls("fleettrack", "text"):
        report = analyze(call, pack, models=models)
        calls.append(Analysed(len(names), None, labels.outcome, report.score, report.model_dump(mode="json")))
        names.append(name.split("/")[-1])
    best = mine(calls)["objection:price"][0]
    # Before verdicts were read by meaning, mining found no price group at all. Now the top group
    # is the pilot, from d1_01 and d1_05; d1_09 and d1_15 are not in it because their price
    # objections are missed ("there's no money for it this year", "I got shot down on a new
    # scheduling tool in June because of cost"), so their answers are not read as answers.
    found = {names[m.call_id] for m in best.members}
    assert found <= PILOT and len(found) >= 2, [(names[m.call_id], m.text) for m in best.members]
    assert best.won_rate == 1.0 and best.lift > 0


def test_a_language_the_encoder_cannot_serve_falls_back_to_wording_with_a_warning() -> None:
    class EnglishOnly(UniversalSentenceEncoder):
        languages = frozenset(["en"])

    turns = [
        ("manager", 0.5, 4.0, "Добрый день, меня зовут Иван, компания Альфа Логистик."),
        ("client", 4.5, 6.0, "Здравствуйте. Что вы хотели?"),
        ("manager", 6.5, 10.0, "Давайте встретимся в четверг в десять утра."),
        ("client", 10.5, 12.0, "Хорошо, до свидания."),
    ]
    report = analyze(transcript(turns, "ru"), load_pack("b2b_outbound_ru"), encoder=EnglishOnly())
    [warning] = report.warnings
    assert warning == ("the sentence encoder does not serve language 'ru'; verdicts compare wording only, "
                       "and paraphrases of the script's phrases will be missed")  # fmt: skip
    assert {"greeting", "introduction", "next_step"} <= {c.id for c in report.checkpoints if c.passed}
    assert all(e.method != "meaning" for c in report.checkpoints for e in c.evidence)
    assert not analyze(transcript(turns, "ru"), load_pack("b2b_outbound_ru")).warnings


PROPOSAL = [
    ("manager", 0.5, 3.0, "Good morning, my name is Daniel from Brightline Logistics."),
    ("client", 3.5, 5.0, "Hello."),
    ("manager", 5.5, 9.0, "How do you ship your orders today?"),
    ("client", 9.5, 12.0, "With a local courier, mostly."),
    ("manager", 12.5, 16.0, "Based on what you told me, you would save on every parcel."),
    ("manager", 16.5, 19.0, "Could we meet on Thursday at ten?"),
]


def test_a_next_step_counts_as_agreed_only_when_the_client_takes_it() -> None:
    agreed = report_of([*PROPOSAL, ("client", 19.5, 21.0, "Thursday at ten works for me."),
                        ("manager", 21.5, 23.0, "Thank you for your time, goodbye.")])  # fmt: skip
    declined = report_of([*PROPOSAL, ("client", 19.5, 23.0, "I think we'll leave it, to be honest."),
                          ("manager", 23.5, 25.0, "Thank you for your time, goodbye.")])  # fmt: skip
    # A time months off is the talk put off, not the manager's day taken.
    put_off = report_of([*PROPOSAL, ("client", 19.5, 21.0, "Ring me in January."),
                         ("manager", 21.5, 23.0, "Thank you for your time, goodbye.")])  # fmt: skip
    # With a day or an hour, a month named is a date.
    dated = report_of([*PROPOSAL, ("client", 19.5, 21.0, "Better Monday at ten, in January."),
                       ("manager", 21.5, 23.0, "Thank you for your time, goodbye.")])  # fmt: skip
    for report in (agreed, declined, put_off, dated):
        assert report.checkpoint("next_step").passed  # proposed with a day and time, either way
    assert put_off.metrics.next_step_agreed is False and dated.metrics.next_step_agreed is True
    assert agreed.metrics.next_step_agreed is True
    assert not [m for m in agreed.mistakes if m.code == "unagreed_next_step"]
    assert declined.metrics.next_step_agreed is False
    [mistake] = [m for m in declined.mistakes if m.code == "unagreed_next_step"]
    assert mistake.start == 16.5 and mistake.points == 10
    assert declined.score == pytest.approx(agreed.score - 10, abs=0.1)


def test_callqa_evaluate_reads_reviewed_calls_as_text_and_stereo(tmp_path: Path, cache_dir: Path) -> None:
    # Four of the product's calls, two won and two lost (all twelve: bench/meaning.py).
    for name in ("d2_05", "d2_06", "d2_08", "d2_09"):
        for suffix in (".json", ".stereo.flac"):
            (tmp_path / f"{name}{suffix}").symlink_to(DEVSET / "brightnest_piper" / f"{name}{suffix}")
    env = {**os.environ, "CALLQA_CACHE_DIR": str(cache_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "cli", "evaluate", str(tmp_path), "--script",
         str(DEVSET / "packs" / "brightnest.yaml"), "--input", "text,stereo", "--json"],
        capture_output=True, text=True, env=env, timeout=PATIENCE, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text, stereo = (json.loads(line) for line in result.stdout.splitlines())
    assert (text["input"], stereo["input"], text["calls"], stereo["calls"]) == ("text", "stereo", 4, 4)
    assert [c["name"] for c in stereo["per_call"]] == ["d2_05", "d2_06", "d2_08", "d2_09"]
    # Each call's six checkpoints and six objection types are verdicts a reviewer may hear, and
    # so is pushback in words that fit none of the types, where the client said some.
    assert 4 * 12 <= text["unsure"]["verdicts"] <= 4 * 13 and 4 * 12 <= stereo["unsure"]["verdicts"] <= 4 * 13
    # The shipped weights were fitted on this product too: a regression floor, not evidence.
    # Measured with AVX2 kernels: text 0.882 / objection types 0.667 (the pushback model) / won
    # 100, 100 against lost 26.7, 18.0; stereo 0.839, won 97, 74 against lost 13.3, 4.7 (recognition
    # moves with the CPU's kernels, so the stereo floors keep a margin). On an AMD EPYC, stereo: AVX2
    # 0.839 / 0.667 / handled 1.0 (2 of 2) / AUC 1.0, AVX-512 0.839 / 0.75 / handled 0.667 (2 of 3) / AUC 1.0.
    assert text["checkpoint_f1"] >= 0.85 and text["objection_f1"] >= 0.65
    assert text["separation"]["separated"] is True
    assert stereo["checkpoint_f1"] >= 0.75 and stereo["handled_accuracy"] >= 0.6
    assert stereo["separation"]["auc"] >= 0.75, stereo["separation"]


def test_script_check_against_reviewed_calls_shows_the_trainer_where_the_pack_disagrees(
    cache_dir: Path,
) -> None:
    env = {**os.environ, "CALLQA_CACHE_DIR": str(cache_dir)}
    folder = DEVSET / "fleettrack"
    result = subprocess.run(
        [sys.executable, "-m", "cli", "script", "check", str(DEVSET / "packs" / "fleettrack.yaml"),
         "--against", str(folder), "--input", "text", "--json"],
        capture_output=True, text=True, env=env, timeout=PATIENCE, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    items = [json.loads(line) for line in result.stdout.splitlines()]
    pack = load_pack(DEVSET / "packs" / "fleettrack.yaml")
    assert [(i["kind"], i["id"]) for i in items] == [("checkpoint", c.id) for c in pack.checkpoints] + [
        ("objection", o.id) for o in pack.objections
    ]
    for item in items:
        assert item["agreed"] + len(item["missed"]) + len(item["found_wrongly"]) == 16
    # Each disagreement names a call and quotes that call's own sentences, with their times.
    for item in items:
        for case in item["missed"] + item["found_wrongly"]:
            turns = json.loads((folder / f"{case['call']}.json").read_text())["turns"]
            said = " ".join(t["text"] for t in turns)
            assert case["sentences"] and all(s["text"] in said for s in case["sentences"])
    assert sum(len(i["missed"]) + len(i["found_wrongly"]) for i in items) > 0
