"""Calibration on generated calls with a planted relationship: deals are won when a next step was
agreed, whatever the greeting; ``callqa calibrate`` must find that, and say when labels are few."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import analysed_calls, run_callqa
from test_analysis import NOISY_GOOD, transcript

from scripts_lib import parse_pack

NO_GREETING = ("manager", 0.4, 4.5, "My name is Daniel, calling from Brightline Logistic.")


def turns(greeting: bool, next_step: bool) -> list[tuple[str, float, float, str]]:
    """The good call, without its greeting or without its next step (a question and an answer of
    the same length in its place, so that the talk itself stays the same)."""
    said = list(NOISY_GOOD)
    if not greeting:
        said[0] = NO_GREETING
    if not next_step:
        said[7] = ("manager", 28.0, 30.5, "Is that something you would consider?")
        said[8] = ("client", 31.0, 32.5, "Maybe, we will see.")
    return said


def store(data: Path, n: int) -> dict[str, str]:
    """``n`` calls, a quarter of each mix of greeting and next step; with a next step 85% are won,
    without it 15%, greeting or not."""
    rng = random.Random(7)
    calls = []
    for i in range(n):
        greeting, next_step = bool(i % 2), bool(i // 2 % 2)
        won = rng.random() < (0.85 if next_step else 0.15)
        at = datetime(2026, 11, 2) + timedelta(hours=i)
        calls.append(("Anna", at, "won" if won else "lost", transcript(turns(greeting, next_step)).to_dict()))
    return analysed_calls(data, calls)


def test_calibrate_recovers_the_planted_relationship(tmp_path: Path) -> None:
    env = store(tmp_path, 60)
    from callqa.settings import Settings
    from pipeline.context import Context
    from pipeline.review import review
    from storage.models import User
    from storage.users import add_user

    ctx = Context.from_settings(Settings.from_env(env))
    add_user(ctx.sessions, "q", "quality")
    with ctx.sessions() as db:
        reviewer = db.query(User).one()
    review(ctx, 1, reviewer, {"checkpoint:farewell": True}, "kept")  # the machine's verdict stands
    review(ctx, 2, reviewer, {"checkpoint:farewell": False}, "it was cut off")  # overridden

    result = run_callqa(env, "calibrate", "--script", "b2b_outbound", "--json", "--out", str(tmp_path / "v2.yaml"))
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["enough"] and found["calls"] == 60
    assert found["auc"] >= 0.75  # cross-validated: the relationship holds on calls the model did not see
    top = found["predictors"][0]
    assert top["feature"] == "checkpoint:next_step" and top["coefficient"] > 0
    assert top["won_when_passed"] > 0.7 and top["won_when_failed"] < 0.3
    greeting = next(p for p in found["predictors"] if p["feature"] == "checkpoint:greeting")
    assert abs(greeting["coefficient"]) < top["coefficient"] / 2  # the greeting decides nothing here
    weights = found["weights"]
    assert weights["next_step"] > 3 and weights["next_step"] == max(weights.values()) and weights["greeting"] < 1
    assert weights["needs_discovery"] == 3  # always passed: the outcomes say nothing of it, it keeps its weight
    assert sum(weights.values()) == pytest.approx(sum(c.weight for c in parse_pack((tmp_path / "v2.yaml").read_text()).checkpoints), abs=0.1)
    assert found["agreement"] == {"checkpoint:farewell": {"reviewed": 2, "agreed": 1, "rate": 0.5}}
    draft = parse_pack((tmp_path / "v2.yaml").read_text(), "v2.yaml")
    assert draft.version == 2 and {c.id: c.weight for c in draft.checkpoints} == weights


def test_too_few_labels_are_said_plainly(tmp_path: Path) -> None:
    env = store(tmp_path, 8)
    result = run_callqa(env, "calibrate", "--script", "b2b_outbound", "--out", str(tmp_path / "v2.yaml"))
    assert result.returncode == 1
    assert result.stdout.startswith("too few labels to learn from: 8 calls with a known outcome")
    assert not (tmp_path / "v2.yaml").exists()  # no weights proposed from noise


# A team's own way of saying it already has a carrier, which the model that ships misses.
CO_OP = [
    "Everything we send goes with the co-op's own vans, members have to use them.",
    "The co-op sends all our parcels, that's part of the membership.",
    "We're members of the co-op, so parcels go out with their vans.",
    "Our parcels are the co-op's job, we signed up to their shipping when we joined.",
]


def co_op_call(said: str) -> list[tuple[str, float, float, str]]:
    return [("manager", 0.5, 3.0, "Hello, this is Daniel from Brightline Logistics."),
            ("client", 3.5, 5.0, "Hello, yes."),
            ("manager", 5.5, 9.0, "We deliver parcels for online shops the same day. How do you ship your orders today?"),
            ("client", 9.5, 14.0, said),
            ("manager", 14.5, 17.0, "I see. Could we talk on Tuesday at ten?"),
            ("client", 17.5, 19.0, "Maybe, goodbye.")]  # fmt: skip


@pytest.mark.slow  # fits the pushback model
def test_a_team_refits_its_pushback_model_and_finds_what_its_reviewers_added(tmp_path: Path) -> None:
    from callqa.settings import Settings
    from pipeline.context import Context
    from pipeline.process import analysed
    from pipeline.review import review
    from storage.models import User
    from storage.users import add_user

    at = datetime(2026, 11, 2, 9)
    env = analysed_calls(tmp_path, [("Anna", at, "lost", transcript(co_op_call(s)).to_dict()) for s in CO_OP])
    ctx = Context.from_settings(Settings.from_env(env))
    add_user(ctx.sessions, "q", "quality")
    with ctx.sessions() as db:
        reviewer = db.query(User).one()
    assert not analysed(ctx, 4, 1)["objections"]  # missed, as in the three others
    review(ctx, 1, reviewer, {"added:existing_supplier@11.0": False}, "The co-op is their carrier.")
    too_few = run_callqa(env, "calibrate", "--script", "b2b_outbound", "--objections")
    assert too_few.returncode == 1 and "1 reviewed objection sentences in calls of b2b_outbound" in too_few.stderr
    for call_id in (2, 3):
        review(ctx, call_id, reviewer, {"added:existing_supplier@11.0": False})
    # Drafts read the calls as reviewed: the added objections are there; calibration from outcomes
    # reads the machine's reports and the verdicts apart.
    from storage.drafts import analysed_calls as stored

    with ctx.sessions() as db:
        typed = {c.call_id: [o["type"] for o in c.report["objections"]] for c in stored(db, "b2b_outbound")}
        machine = {c.call_id: c.report["objections"] for c in stored(db, "b2b_outbound", reviewed=False)}
    assert typed == {1: ["existing_supplier"], 2: ["existing_supplier"], 3: ["existing_supplier"], 4: []}
    assert not any(machine.values())

    result = run_callqa(env, "calibrate", "--script", "b2b_outbound", "--objections", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "refitted": True,
        "message": "refitted on the corpus and 3 reviewed sentences of b2b_outbound (3 pushback, 0 not)",
    }
    # The fourth call, said in words of its own, now carries the team's objection.
    [found] = analysed(ctx, 4, 1)["objections"]
    assert found["type"] == "existing_supplier" and "co-op" in found["text"]
