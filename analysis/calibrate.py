"""Calibration: which verdicts and behaviours predict won deals in this team, how often the
machine agrees with the reviewers, and the checkpoint weights the outcomes suggest.

Deal outcomes are the labels of a cross-validated logistic regression over the report's
features (checkpoints passed, with reviewers' corrections; objections handled; conversation
metrics). With too few labelled calls it says so instead of fitting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MIN_CALLS = 20  # labelled (won or lost) calls needed to fit at all
MIN_EACH = 5  # and of each outcome
METRICS = ("manager_talk_share", "longest_monologue", "interruptions_by_manager", "questions_open",
           "questions_closed", "manager_words_per_minute", "fillers_per_minute", "objection_seconds")  # fmt: skip


@dataclass(frozen=True)
class Labelled:
    report: dict[str, Any]  # the CallReport as JSON
    won: bool | None  # the deal's outcome, None when unknown
    reviewed: dict[str, bool]  # reviewers' verdicts on this report: checkpoint:ID / objection:TYPE


@dataclass(frozen=True)
class Calibration:
    calls: int  # labelled calls
    won: int
    enough: bool
    message: str
    auc: float | None  # cross-validated ROC AUC of the model
    auc_spread: float | None  # its standard deviation over the folds
    score_auc: float | None  # the machine score's own AUC, for comparison
    predictors: tuple[dict[str, Any], ...]  # feature, coefficient (standardised), won rates
    agreement: dict[str, dict[str, Any]]  # checkpoint:ID -> reviewed, agreed, rate
    weights: dict[str, float]  # proposed checkpoint weights (same total as the pack's)


def features(report: dict[str, Any], reviewed: dict[str, bool], checkpoints: Sequence[str]) -> list[float]:
    passed = {c["id"]: c["passed"] for c in report["checkpoints"]}
    row = [float(reviewed.get(f"checkpoint:{c}", passed.get(c, False))) for c in checkpoints]
    objections = report["objections"]
    handled = [reviewed.get(f"objection:{o['type']}", o["handled"]) for o in objections]
    row.append(float(sum(handled) / len(handled)) if handled else 1.0)
    row += [float(report["metrics"].get(m) or 0.0) for m in METRICS]
    return row


def calibrate(calls: Sequence[Labelled], weights: dict[str, float]) -> Calibration:
    """``weights``: the pack's checkpoint weights, by id (their order names the features)."""
    checkpoints = list(weights)
    names = [f"checkpoint:{c}" for c in checkpoints] + ["objections_handled", *METRICS]
    agreement = _agreement(calls)
    labelled = [c for c in calls if c.won is not None]
    won = sum(bool(c.won) for c in labelled)
    lacking = len(labelled) < MIN_CALLS or min(won, len(labelled) - won) < MIN_EACH
    if lacking:
        message = (f"too few labels to learn from: {len(labelled)} calls with a known outcome ({won} won, "
                   f"{len(labelled) - won} lost); needs {MIN_CALLS}, with {MIN_EACH} of each")  # fmt: skip
        return Calibration(len(labelled), won, False, message, None, None, None, (), agreement, dict(weights))
    # lazy: scikit-learn takes about 2 s to import: only when there are enough labels to fit
    from analysis.outcome_model import auc, fit_outcomes

    x = np.array([features(c.report, c.reviewed, checkpoints) for c in labelled])
    y = np.array([bool(c.won) for c in labelled])
    scores, coefficients = fit_outcomes(x, y, folds=min(5, won, len(y) - won))
    predictors = []
    for i in np.argsort(-np.abs(coefficients)):
        entry: dict[str, Any] = {"feature": names[i], "coefficient": round(float(coefficients[i]), 3)}
        if i < len(checkpoints) + 1:  # a yes/no verdict: the won rate with and without it
            on, off = y[x[:, i] >= 0.5], y[x[:, i] < 0.5]
            entry["won_when_passed"] = round(float(on.mean()), 3) if len(on) else None
            entry["won_when_failed"] = round(float(off.mean()), 3) if len(off) else None
        predictors.append(entry)
    score_auc = auc(y, [c.report["score"] for c in labelled])
    message = (f"cross-validated AUC {scores.mean():.2f} ± {scores.std():.2f} over {len(scores)} folds "
               f"(the score alone: {score_auc:.2f}), {len(labelled)} labelled calls")  # fmt: skip
    varied = [0 < x[:, i].mean() < 1 for i in range(len(checkpoints))]
    proposed = _weights(weights, coefficients[: len(checkpoints)], varied)
    return Calibration(len(labelled), won, True, message, round(float(scores.mean()), 3),
                       round(float(scores.std()), 3), round(score_auc, 3), tuple(predictors), agreement, proposed)  # fmt: skip


def _weights(current: dict[str, float], coefficients: np.ndarray, varied: Sequence[bool]) -> dict[str, float]:
    """New weights for the checkpoints the outcomes say something about (passed in some labelled
    calls, failed in others): their current total shared in proportion to how much passing each
    raises the odds of a won deal, none below a tenth of their average. The rest keep theirs."""
    proposed = dict(current)
    ids = [c for c, v in zip(current, varied, strict=True) if v]
    raw = np.array([max(float(k), 0.0) for k, v in zip(coefficients, varied, strict=True) if v])
    if not ids or raw.sum() <= 0:
        return proposed
    raw = np.maximum(raw, 0.1 * raw.mean())
    total = sum(current[c] for c in ids)
    proposed |= {c: round(float(total * w / raw.sum()), 2) for c, w in zip(ids, raw, strict=True)}
    return proposed


def _agreement(calls: Sequence[Labelled]) -> dict[str, dict[str, Any]]:
    """Per verdict reviewers looked at: how often they kept the machine's."""
    counts: dict[str, list[int]] = {}
    for call in calls:
        machine = {f"checkpoint:{c['id']}": c["passed"] for c in call.report["checkpoints"]}
        machine |= {f"objection:{o['type']}": o["handled"] for o in call.report["objections"]}
        for target, verdict in call.reviewed.items():
            if target in machine:
                entry = counts.setdefault(target, [0, 0])
                entry[0] += 1
                entry[1] += machine[target] == verdict
    return {t: {"reviewed": n, "agreed": ok, "rate": round(ok / n, 3)} for t, (n, ok) in sorted(counts.items())}
