"""Objections: the corpus and the pushback model, a pack's types of no known kind, and the
objections a reviewer adds where the machine heard none."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PATIENCE
from test_meaning import DEVSET

from analysis.analyze import analyze
from analysis.evaluate import reference_transcript
from analysis.language import pipeline
from analysis.pushback import (
    GENERIC,
    NONE,
    Said,
    cues,
    design,
    encode_said,
    read_corpus,
    shipped_model,
)
from analysis.semantic import bundled_encoder
from analysis.units import units
from callqa.errors import InputError
from scripts_lib import load_pack


def test_the_corpus_is_many_industries_both_languages_and_hard_negatives() -> None:
    corpus = read_corpus()
    labels = collections.Counter(e.label for e in corpus)
    assert len(corpus) >= 1500 and set(labels) == {*GENERIC, NONE}
    assert min(labels[g] for g in GENERIC) >= 50 and labels[NONE] >= 0.4 * len(corpus)
    assert len({e.industry for e in corpus}) >= 25
    by_language = collections.Counter(e.said.language for e in corpus)
    assert by_language["en"] >= 1500 and by_language["ru"] >= 500
    # Inbound and outbound, to companies and to people.
    shapes = {(d["direction"], d["market"]) for d in map(_meta, Path("analysis/corpus").glob("*/*.yaml"))}
    assert shapes == {(d, m) for d in ("inbound", "outbound") for m in ("B2B", "B2C")}
    # Some turns are as a recogniser writes them: lower case, no punctuation.
    assert sum(e.said.text == e.said.text.lower() and "," not in e.said.text for e in corpus) >= 0.1 * len(corpus)
    # The development set's industries stay out, so that it remains an honest test.
    industries = " ".join(e.industry.lower() for e in corpus)
    assert not any(word in industries for word in ("fleet", "telematic", "solar", "truck", "gps"))


def _meta(path: Path) -> dict[str, str]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def pushback(*said: tuple[str | None, str]) -> list[float]:
    """The shipped model's probability that each client turn (after the manager's) pushes back."""
    turns = [Said(text, before, "en") for before, text in said]
    texts, befores = encode_said(bundled_encoder(), turns)
    return list(shipped_model().pushback(design(texts, befores, cues(turns, texts, befores))))


def test_the_model_tells_an_answer_about_money_from_pushback_about_money() -> None:
    # The pair: the same topic, one an answer and one resistance.
    answer, resisting = pushback(
        ("And the diesel, what does that run you?", "We're at about nine grand a month over eighteen vans."),
        ("Bakeries your size shave eight to ten percent off the fuel.",
         "It sounds good, but we can't stretch to another monthly subscription. Money's really tight this year."),
    )  # fmt: skip
    assert answer < 0.5 <= resisting
    # Short replies and naming who orders, in answer to a question, are no pushback; a worry in
    # words unlike any pack's is.
    # ("This month is a terrible one for us." is still missed: 0.31.)
    minute, who, wary = pushback(
        ("Have you got a minute?", "A minute, yes."),
        ("Who places the orders with your suppliers?", "Our office manager, Sue, does all the ordering."),
        ("It's forty a month per seat.", "I'm a bit wary of the cost, to be honest."),
    )  # fmt: skip
    assert minute < 0.5 and who < 0.5 and wary >= 0.5
    vectors = bundled_encoder().encode(["We can't afford another subscription this year."])
    assert GENERIC[int(shipped_model().generic(vectors).argmax())] == "price"


def test_a_type_of_no_kind_the_model_knows_is_found_by_its_phrases_with_a_warning(tmp_path: Path) -> None:
    pack = tmp_path / "van_colours.yaml"
    pack.write_text(
        "id: van_colours\nversion: 1\ntitle: Van colours\nlanguage: en\n"
        "checkpoints:\n  - {id: greeting, title: Greeting, phrases: [hello], advice: Say hello.}\n"
        "objections:\n"
        "  - {id: price, title: Too expensive, phrases: [\"that's too expensive\", \"we can't afford it\"]}\n"
        "  - {id: colour, title: Colour of the vans, phrases: [\"I don't like the green paint\", "
        "\"do you have it in blue\"]}\n"
    )
    result = subprocess.run([sys.executable, "-m", "cli", "script", "check", str(pack), "--json"],
                            capture_output=True, text=True, timeout=PATIENCE, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    [warning] = json.loads(result.stdout)["warnings"]
    assert warning.startswith("objection colour: its phrases fit no kind of pushback")
    said = [("manager", 0.0, 3.0, "Hello, the new vans come in our green livery."),
            ("client", 3.5, 7.0, "Hm. I don't like the green paint at all, to be honest."),
            ("manager", 7.5, 10.0, "We can paint them blue for you at no charge.")]  # fmt: skip
    from test_analysis import transcript

    report = analyze(transcript(said), load_pack(pack))
    assert [o.type for o in report.objections] == ["colour"]


def d1_05() -> tuple[object, object]:
    pack = load_pack(DEVSET / "packs" / "fleettrack.yaml")
    return pack, reference_transcript(DEVSET / "fleettrack" / "d1_05.json", "en")


def test_a_reviewer_adds_an_objection_the_machine_missed_and_the_score_follows() -> None:
    pack, call = d1_05()
    machine = analyze(call, pack)  # type: ignore[arg-type]
    # "It's not my call on the full rollout, though." (authority, in the call's labels)
    said = next(u for u in units(call, pipeline("en")) if "not my call" in u.text)  # type: ignore[arg-type]
    moment = round((said.start + said.end) / 2, 1)
    added = analyze(call, pack, overrides={f"added:authority@{moment}": False})  # type: ignore[arg-type]
    [authority] = [o for o in added.objections if o.type == "authority"]
    assert "not my call on the full rollout" in authority.text and not authority.handled
    assert authority.response is not None and authority.confidence == 1.0
    assert "unhandled_objection:authority" in {m.code for m in added.mistakes}
    assert added.score < machine.score
    handled = analyze(call, pack, overrides={f"added:authority@{moment}": True})  # type: ignore[arg-type]
    assert next(o for o in handled.objections if o.type == "authority").handled
    assert handled.score > added.score


@pytest.mark.parametrize(
    ("target", "reason"),
    [("added:roof@12.0", "'roof' is not an objection type of script fleettrack_outbound"),
     ("added:price@soon", "the moment must be seconds")],
)  # fmt: skip
def test_an_added_objection_of_no_type_of_the_script_is_refused_with_the_reason(target: str, reason: str) -> None:
    pack, call = d1_05()
    with pytest.raises(InputError, match=reason):
        analyze(call, pack, overrides={target: True})  # type: ignore[arg-type]


def test_a_reviewer_retypes_an_objection_and_the_machines_type_stays_in_view() -> None:
    pack, call = d1_05()
    machine = analyze(call, pack)  # type: ignore[arg-type]
    [price] = [o for o in machine.objections if o.type == "price"]
    moment = round((price.start + price.end) / 2, 1)
    # Not price, says the reviewer, but timing ("the budget's just been set for the year").
    retyped = {"raised:price": False, f"added:timing@{moment}": True}
    report = analyze(call, pack, overrides=retyped)  # type: ignore[arg-type]
    assert [o.type for o in report.objections] == ["timing"] and report.objections[0].handled
    assert "price" in {o.type for o in report.possible_objections}  # so "raised:price" can be given again
    again = analyze(call, pack, overrides=retyped | {"raised:price": True})  # type: ignore[arg-type]
    assert {o.type for o in again.objections} >= {"price", "timing"}
