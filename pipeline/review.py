"""Reviews: a supervisor confirms or overrides verdicts and the report follows them; a manager
disputes one, and a review of that verdict answers the dispute."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.added import PREFIX as ADDED
from analysis.report import mistake_key
from analysis.scoring import is_penalty
from callqa.errors import InputError
from pipeline.context import Context
from pipeline.process import analysed, report_items, unsure_targets
from storage.models import Call, Report, Review, User
from storage.reviews import latest_verdicts, locked_report, open_disputes, reviews_of, update_state


def latest_report(ctx: Context, call_id: int) -> Report:
    with ctx.sessions() as db:
        report_id = db.scalar(select(func.max(Report.id)).where(Report.call_id == call_id))
        if report_id is None:
            raise InputError(f"call {call_id}: not analysed yet, nothing to review")
        return db.get_one(Report, report_id)


def _report_with(ctx: Context, call_id: int, chosen: Collection[str], adding: bool = False) -> Report:
    """The call's newest report, which must have a verdict on each target in ``chosen`` (or, with
    ``adding``, be given an objection it missed: ``added:TYPE@SECONDS``)."""
    report = latest_report(ctx, call_id)
    known = targets(report.data)
    # An objection a reviewer adds is new to the report; the analysis checks its type and moment.
    unknown = sorted(t for t in set(chosen) - set(known) if not (adding and t.startswith(ADDED)))
    if unknown:
        raise InputError(f"target {unknown[0]!r}: not a checkpoint, objection or mistake of this call's report")
    return report


def targets(report: dict[str, Any]) -> dict[str, str]:
    """What a reviewer can give a verdict on, with titles: ``checkpoint:ID``; ``objection:TYPE``
    (handled) and ``raised:TYPE`` (the client raised it) for the objections and the possible
    ones; and ``mistake:CODE@START`` for the penalties (other mistakes follow their checkpoint or
    objection)."""
    found = {f"checkpoint:{c['id']}": c["title"] for c in report["checkpoints"]}
    for o in [*report["objections"], *report.get("possible_objections", [])]:
        found |= {f"objection:{o['type']}": o["title"], f"raised:{o['type']}": f"{o['title']} (raised)"}
    found |= {f"mistake:{mistake_key(m['code'], m['start'])}": m["message"]
              for m in report["mistakes"] if is_penalty(m["code"])}  # fmt: skip
    return found


def machine_verdicts(report: dict[str, Any]) -> dict[str, bool]:
    """The machine's verdict on each target: passed, handled (the last time the type was raised,
    or as a possible one would be), raised (True for an objection, False for a possible one), and
    True for each penalty (it is a mistake)."""
    verdicts = {f"checkpoint:{c['id']}": bool(c["passed"]) for c in report["checkpoints"]}
    for o in report.get("possible_objections", []):
        verdicts |= {f"objection:{o['type']}": bool(o["handled"]), f"raised:{o['type']}": False}
    for o in report["objections"]:
        verdicts |= {f"objection:{o['type']}": bool(o["handled"]), f"raised:{o['type']}": True}
    return verdicts | {target: True for target in targets(report) if target.startswith("mistake:")}


def mistake_target(code: str, start: float) -> tuple[str, bool]:
    """The target a verdict on a mistake is given on, and the verdict that says "no mistake": a
    missed checkpoint was said, an objection was handled, a penalty was none."""
    kind, _, key = code.partition(":")
    if kind == "missed_checkpoint":
        return f"checkpoint:{key}", True
    if kind == "unhandled_objection":
        return f"objection:{key}", True
    return f"mistake:{mistake_key(code, start)}", False


def review(
    ctx: Context, call_id: int, user: User, verdicts: Mapping[str, bool], comment: str = "",
    answers: int | None = None,
) -> list[Review]:  # fmt: skip
    """Record a reviewer's ``verdicts`` by target (see ``targets``) and keep the report as reviewed:
    the score and mistakes with every verdict given so far on this report (the latest per target
    wins). The machine's report and score are kept. A verdict on a target with an open dispute
    answers it; ``answers`` names the dispute the review answers whatever its target."""
    if not verdicts:
        raise InputError("verdicts: give at least one")
    report = _report_with(ctx, call_id, verdicts, adding=True)
    return _record(ctx, call_id, report, user, lambda given, disputed: verdicts, comment, answers)


FINISHED = "Review finished: the machine's other verdicts confirmed."


def finish(ctx: Context, call_id: int, user: User) -> list[Review]:
    """End a call's review: each of the machine's verdicts that no reviewer has given on its
    newest report is confirmed as it stands (a verdict each, counted in the agreement rate), so
    that a clean call needs one action. The call is reviewed; the confirmations, none when every
    verdict was given already. A dispute still open must be answered first."""
    report = latest_report(ctx, call_id)
    machine = machine_verdicts(report.data)

    def untouched(given: Mapping[str, bool], disputed: Collection[str]) -> dict[str, bool]:
        if disputed:
            raise InputError(f"call {call_id}: a dispute on {min(disputed)!r} is open; answer it before finishing")
        return {t: v for t, v in machine.items() if t not in given}

    return _record(ctx, call_id, report, user, untouched, FINISHED)


def _record(
    ctx: Context, call_id: int, report: Report, user: User,
    choose: Callable[[Mapping[str, bool], Collection[str]], Mapping[str, bool]], comment: str,
    answers: int | None = None,
) -> list[Review]:  # fmt: skip
    """Store the verdicts that ``choose`` picks, given those given so far on ``report`` and the
    targets of the open disputes, one call's reviews at a time; keep the report as reviewed with
    all of them."""
    entries: list[Review] = []
    with ctx.sessions.begin() as db:
        # The call's other reviews wait here, so each starts from the verdicts before it.
        stored = locked_report(db, report.id)
        given = latest_verdicts(db, [report.id]).get(report.id, {})
        disputes = {d.id: d for d in open_disputes(reviews_of(db, call_id))}
        verdicts = choose(given, {d.target for d in disputes.values()})
        if not verdicts:
            return entries
        if answers is not None and answers not in disputes:
            raise InputError(f"answers: {answers} is not an open dispute of call {call_id}")
        before = stored.reviewed_score if stored.reviewed_score is not None else stored.score
        reviewed = analysed(ctx, call_id, report.script_id, {**given, **verdicts})
        after = float(reviewed["score"])
        stored.reviewed_score, stored.reviewed = after, reviewed
        stored.items = report_items(reviewed)  # list filters and chips follow the report as reviewed
        for target, verdict in verdicts.items():
            answered = answers if answers is not None and not entries else next(
                (d.id for d in disputes.values() if d.target == target), None
            )
            disputes.pop(answered or 0, None)
            entry = Review(call_id=call_id, report_id=report.id, user_id=user.id, kind="review", target=target,
                           verdict=verdict, comment=comment, score_before=before, score_after=after,
                           answers=answered)  # fmt: skip
            db.add(entry)
            entries.append(entry)
        db.flush()
        call = db.get_one(Call, call_id)
        if call.report_id == report.id:
            call.score = after
        update_state(db, call)
    return entries


class Agreement(NamedTuple):
    """Of the reviewers' verdicts (the latest per call and target): how many kept the machine's,
    of how many, apart for the verdicts the machine marked unsure."""

    agreed: int
    verdicts: int
    unsure_agreed: int
    unsure: int


def agreement(db: Session, call_ids: Collection[int]) -> Agreement:
    """How often the reviewers kept the machine's verdict on these calls."""
    rows = list(db.execute(
        select(Review.call_id, Review.target, Review.verdict, Review.report_id)
        .where(Review.call_id.in_(call_ids), Review.kind == "review")
        .order_by(Review.id)
    ))  # fmt: skip
    reports = {r.id: (machine_verdicts(r.data), unsure_targets(r.data))  # each report read once
               for r in db.scalars(select(Report).where(Report.id.in_({row[3] for row in rows})))}  # fmt: skip
    latest = {(call_id, target): (reports[report_id][0].get(target) == verdict, target in reports[report_id][1])
              for call_id, target, verdict, report_id in rows}  # fmt: skip
    unsure = [kept for kept, marked in latest.values() if marked]
    return Agreement(sum(kept for kept, _ in latest.values()), len(latest), sum(unsure), len(unsure))


def dispute(ctx: Context, call_id: int, user: User, target: str, comment: str) -> Review:
    """A manager disputes a verdict of their call; a reviewer then answers with ``review``."""
    report = _report_with(ctx, call_id, [target])
    if not comment.strip():
        raise InputError("comment: say why the verdict is wrong")
    with ctx.sessions.begin() as db:
        entry = Review(call_id=call_id, report_id=report.id, user_id=user.id, kind="dispute", target=target,
                       verdict=None, comment=comment)  # fmt: skip
        db.add(entry)
        db.flush()
        update_state(db, db.get_one(Call, call_id))
    return entry
