"""The score and the mistakes: every point lost is one mistake with its time, reason and advice.

The score starts from the pack's weights: the checkpoints make up
``checkpoints_share`` of 100 (each required checkpoint, and each optional
one that was said, in proportion to its weight), the objections the rest
(each objection type raised counts equally); a call where the client
raised no objection is scored on its checkpoints alone. Penalties for misplaced checkpoints, forbidden phrases,
interruptions, monologues, dead air, a quiet voice and a proposed step the client never agreed to come off that.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from analysis.checkpoints import clock
from analysis.report import (
    CheckpointResult,
    ForbiddenHit,
    Metrics,
    Mistake,
    ObjectionResult,
    StageScore,
)
from scripts_lib.schema import BehaviourCode, ScriptPack

# Interruptions and silences cost points this many times at most; the rest are only listed.
MAX_REPEATS = 3

_ADVICE = {
    "interrupted_client": "Let the client finish; what they say after the first sentence is often the real need.",
    "long_monologue": "Stop after two or three sentences and ask a question; a client who only listens is gone.",
    "dead_air": "Do not leave the line silent; say what you are doing (\"one moment, I am checking\").",
    "quiet_voice": "Speak up and closer to the microphone: a manager who whispers into the phone loses the client.",
    "pitching_not_asking": "Fewer features, more questions about the client's work: sell what they need.",
    "unagreed_next_step": "Close on a step the client can say yes to: a short call or a visit at a day and "
    "time, and hear them say it back.",
}
_UNHANDLED = {
    "repeated": "the client repeated it",
    "ended": "the call ended on it",
    "moved_on": "no handling technique was used",
}


def score_call(
    pack: ScriptPack,
    checkpoints: Sequence[CheckpointResult],
    objections: Sequence[ObjectionResult],
    forbidden: Sequence[ForbiddenHit],
    metrics: Metrics,
    interruptions: Sequence[float] = (),
    silences: Sequence[tuple[float, float]] = (),
    proposal: CheckpointResult | None = None,
    dismissed: Collection[str] = (),
) -> tuple[float, tuple[StageScore, ...], tuple[Mistake, ...]]:
    """The 0-100 score, a score per stage, and the mistakes in time order.

    ``interruptions``: when the manager talked over the client; ``silences``: (start, seconds);
    ``proposal``: the step with a day and time the manager proposed, if any (``metrics``
    says whether the client agreed). ``dismissed``: the keys of penalties a reviewer found
    were no mistake (the others follow the verdicts on checkpoints and objections).
    """
    last = {o.type: o for o in objections}  # the last time each type was raised decides it
    # A call without objections is judged on its checkpoints alone.
    share = pack.scoring.checkpoints_share * 100 if last else 100.0
    counted = [c for c in checkpoints if c.required or c.passed]
    total_weight = sum(c.weight for c in counted) or 1.0
    checkpoint_points = share * sum(c.weight for c in counted if c.passed) / total_weight
    mistakes = _checkpoint_mistakes(pack, checkpoints, share / total_weight, metrics.duration)
    per_type = (100 - share) / len(last) if last else 0.0
    objection_points = 100 - share - per_type * sum(not o.handled for o in last.values())
    mistakes += [
        Mistake(
            code=f"unhandled_objection:{o.type}",
            start=o.start,
            message=f"{o.title} objection at {clock(o.start)} (\u201c{o.text}\u201d) not handled: "
            f"{_UNHANDLED[o.outcome]}",
            advice=_proven(pack, o.type, pack.scoring.advice.get("unhandled_objection") or _objection_advice(pack)),
            points=round(per_type, 2),
        )
        for o in last.values()
        if not o.handled
    ]
    mistakes += _behaviour_mistakes(pack, forbidden, metrics)
    if proposal is not None and proposal.evidence and metrics.next_step_agreed is False:
        mistakes.append(
            _mistake(pack, "unagreed_next_step", proposal.evidence[0].start, pack.scoring.unagreed_penalty,
                     f"{proposal.title}: proposed at {clock(proposal.evidence[0].start)}, "
                     "the client did not agree to a day or time")
        )  # fmt: skip
    mistakes += _interruption_mistakes(pack, interruptions) + _silence_mistakes(pack, silences)
    mistakes = [m for m in mistakes if not (is_penalty(m.code) and m.key in dismissed)]
    score = checkpoint_points + objection_points - sum(m.points for m in mistakes if is_penalty(m.code))
    stages = tuple(
        StageScore(id=c.id, title=c.title, score=0.0 if not c.passed else 50.0 if c.misplaced else 100.0)
        for c in checkpoints
    )
    if last:
        handled = sum(o.handled for o in last.values())
        stages += (StageScore(id="objections", title="Objection handling", score=round(100 * handled / len(last), 1)),)
    return round(min(100.0, max(0.0, score)), 1), stages, tuple(sorted(mistakes, key=lambda m: m.start))


# Mistakes whose points are penalties on top of the weighted parts (the others are points not earned).
_PENALTIES = (
    "misplaced_checkpoint", "forbidden_phrase", "interrupted_client", "long_monologue", "dead_air", "quiet_voice",
    "unagreed_next_step",
)  # fmt: skip


def is_penalty(code: str) -> bool:
    """Whether a mistake of ``code`` is a penalty, which a reviewer can dismiss on its own."""
    return code.startswith(_PENALTIES)


def _checkpoint_mistakes(
    pack: ScriptPack, checkpoints: Sequence[CheckpointResult], per_weight: float, duration: float
) -> list[Mistake]:
    advice = {c.id: c.advice for c in pack.checkpoints}
    windows = {c.id: c for c in pack.checkpoints}
    mistakes = []
    for c in checkpoints:
        if c.passed and c.misplaced:
            mistakes.append(
                Mistake(
                    code=f"misplaced_checkpoint:{c.id}",
                    start=c.evidence[0].start,
                    message=f"{c.title}: {c.misplaced}",
                    advice=advice[c.id],
                    points=pack.scoring.misplaced_penalty,
                )
            )
        elif not c.passed and c.required:
            spec = windows[c.id]
            expected = max(0.0, duration - spec.within_last) if spec.within_last else 0.0
            mistakes.append(
                Mistake(
                    code=f"missed_checkpoint:{c.id}",
                    start=_expected_at(pack, checkpoints, c.id, expected),
                    message=f"{c.title}: not found in the call",
                    advice=advice[c.id],
                    points=round(per_weight * c.weight, 2),
                )
            )
    return mistakes


def _expected_at(pack: ScriptPack, results: Sequence[CheckpointResult], cid: str, default: float) -> float:
    """Where a missed checkpoint belonged in the script's order: the moment the call went past it
    (the first later stage that was said: a presentation with no questions before it, a goodbye
    with no next step), or, where no later stage was said, the end of the last earlier one;
    ``default`` (the start of its time window) for a checkpoint of no order, or when no stage
    around it was said."""
    order = {c.id: c.order for c in pack.checkpoints}
    mine = order[cid]
    if mine is None:
        return default
    said = [(rank, r) for r in results if r.passed and r.evidence and (rank := order[r.id]) is not None]
    later = [r.evidence[0].start for rank, r in said if rank > mine]
    earlier = [r.evidence[0].end for rank, r in said if rank < mine]
    return min(later) if later else max(earlier, default=default)


def _behaviour_mistakes(pack: ScriptPack, forbidden: Sequence[ForbiddenHit], m: Metrics) -> list[Mistake]:
    scoring = pack.scoring
    advice = {f.phrase: f.advice for f in pack.forbidden}
    found = [
        Mistake(
            code="forbidden_phrase",
            start=hit.start,
            message=f"Said \u201c{hit.phrase}\u201d ({hit.severity}) at {clock(hit.start)}: \u201c{hit.text}\u201d",
            advice=advice.get(hit.phrase, ""),
            points=scoring.forbidden_penalty.get(hit.severity, 0.0),  # type: ignore[call-overload]
        )
        for hit in forbidden
    ]
    if m.longest_monologue > scoring.max_monologue:
        found.append(
            _mistake(pack, "long_monologue", m.longest_monologue_start, scoring.monologue_penalty,
                     f"The manager talked for {m.longest_monologue:.0f} s without the client saying a word")
        )  # fmt: skip
    if (
        m.manager_level_dbfs is not None
        and m.client_level_dbfs is not None
        and m.manager_level_dbfs < m.client_level_dbfs - scoring.quiet_db
    ):
        found.append(
            _mistake(pack, "quiet_voice", 0.0, scoring.quiet_penalty,
                     f"The manager's voice ({m.manager_level_dbfs:.0f} dBFS) is "
                     f"{m.client_level_dbfs - m.manager_level_dbfs:.0f} dB quieter than the client's")
        )  # fmt: skip
    if m.pitch_share >= 0.6 and m.questions_open < 2:
        found.append(
            _mistake(pack, "pitching_not_asking", 0.0, 0.0,
                     f"{m.pitch_share:.0%} of the manager's statements are about the product; "
                     f"{m.questions_open} open questions")
        )  # fmt: skip
    return found


def _interruption_mistakes(pack: ScriptPack, starts: Sequence[float]) -> list[Mistake]:
    return [
        _mistake(pack, "interrupted_client", t, pack.scoring.interruption_penalty if i < MAX_REPEATS else 0.0,
                 f"The manager talked over the client at {clock(t)}")
        for i, t in enumerate(starts)
    ]  # fmt: skip


def _silence_mistakes(pack: ScriptPack, silences: Sequence[tuple[float, float]]) -> list[Mistake]:
    long = [(t, s) for t, s in silences if s > pack.scoring.max_silence]
    return [
        _mistake(pack, "dead_air", t, pack.scoring.dead_air_penalty if i < MAX_REPEATS else 0.0,
                 f"{s:.0f} s of silence at {clock(t)}")
        for i, (t, s) in enumerate(long)
    ]  # fmt: skip


def _mistake(pack: ScriptPack, code: BehaviourCode, start: float, points: float, message: str) -> Mistake:
    advice = pack.scoring.advice.get(code) or _ADVICE[code]
    return Mistake(code=code, start=round(start, 2), message=message, advice=advice, points=points)


def _proven(pack: ScriptPack, objection: str, advice: str) -> str:
    """The advice, with the team's proven answer to this objection when the pack has one."""
    answers = next((o.responses for o in pack.objections if o.id == objection), ())
    return f"{advice} An answer that works here: \u201c{answers[0]}\u201d" if answers else advice


def _objection_advice(pack: ScriptPack) -> str:
    names = ", ".join(t.title.lower() for t in pack.techniques)
    return f"Answer every objection before moving on: {names}." if names else "Answer every objection."
