"""The calls list, the call page, and its review and dispute forms."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NamedTuple

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.scoring import is_penalty
from api.deps import (
    QUALITY,
    ContextDep,
    DbDep,
    ManagerForm,
    PageDep,
    QualityForm,
    QualityPage,
    RowId,
    audit,
    deferred,
    own_call,
    own_manager,
)
from api.pages.templating import anchor, render
from callqa.errors import InputError
from pipeline.process import ask_two_voices
from pipeline.retention import hold
from pipeline.review import (
    agreement,
    dispute,
    finish,
    machine_verdicts,
    mistake_target,
    review,
    targets,
)
from storage import daily
from storage.calls import (
    EXPORT_ROWS,
    CallQuery,
    ListRow,
    next_to_review,
    search_calls,
    verdict_chips,
)
from storage.managers import manager_named, manager_names
from storage.models import Call, Job, Report
from storage.reviews import disputes, reviews_of
from storage.sampling import sample as draw
from storage.scripts import newest_titles, version_titles
from storage.search import words

router = APIRouter()


@router.get("/calls", response_class=HTMLResponse)
def calls_page(
    request: Request, db: DbDep, session: PageDep, filters: Annotated[CallQuery, Query()]
) -> HTMLResponse:
    return _list(request, db, session, filters, "calls")


@router.get("/review", response_class=HTMLResponse)
def review_queue(
    request: Request, db: DbDep, session: QualityPage, filters: Annotated[CallQuery, Query()],
    sample: Annotated[int | None, Query(ge=1, le=20)] = None,
) -> HTMLResponse:  # fmt: skip
    """The calls that wait for a reviewer (not reviewed, or disputed), worst first. ``sample``: that
    many calls per manager per day instead (of the dates filtered, today by default), stratified
    by score, with how many are reviewed and how often the reviewers kept the machine's verdict."""
    if sample is None:
        defaults = {"review": "to_review", "sort": "score"}
        filters = filters.model_copy(update={k: v for k, v in defaults.items() if k not in filters.model_fields_set})
        return _list(request, db, session, filters, "review")
    today = datetime.now(UTC).date()
    first, last = filters.date_from or filters.date_to or today, filters.date_to or filters.date_from or today
    filters = filters.model_copy(update={"date_from": first, "date_to": last, "sort": "score", "review": None})
    ids = draw(db, first, last, sample, own_manager(session.user))
    found, _ = search_calls(db, filters, own_manager(session.user), limit=EXPORT_ROWS, only=ids)
    sampled = {"per_day": sample, "calls": len(found), "agreement": agreement(db, [r.call.id for r in found]),
               "reviewed": sum(r.call.review != "none" for r in found)}  # fmt: skip
    return _list(request, db, session, filters, "review", found=found, sampled=sampled)


def _list(
    request: Request, db: Session, session: Any, filters: CallQuery, section: str,
    found: list[ListRow] | None = None, **extra: Any,
) -> HTMLResponse:  # fmt: skip
    pages = 1  # a sample is shown whole
    if found is None:
        if filters.q:  # which calls hold a word: the query is logged, not what it found
            audit(db, session.user, "search", request=request)
        found, total = search_calls(db, filters, own_manager(session.user))
        pages = max(1, math.ceil(total / filters.per_page))
    else:
        total = len(found)
    chips = verdict_chips(db, [c.report_id for c, *_ in found if c.report_id])
    titles = version_titles(db, {r.script_id for r in found if r.script_id is not None})
    rows = [{"id": r.call.id, "file": r.call.original_name, "manager": r.manager, "score": r.call.score,
             "at": r.call.at, "duration": r.call.duration, "outcome": r.call.outcome, "script": r.pack,
             "failed": [(key, titles[r.script_id].checkpoints.get(key, key) if r.script_id else key)
                        for key in chips.failed.get(r.call.report_id or 0, [])],
             "unsure": chips.unsure.get(r.call.report_id or 0, 0), "one_voice": r.call.report_id in chips.one_voice,
             "review": r.call.review} for r in found]  # fmt: skip
    return render(request, "calls.html", session, section=section, rows=rows, total=total, filters=filters,
                  pages=pages, choices=filter_choices(db, filters.script), action=f"/{section}", **extra)  # fmt: skip


@router.get("/disputes", response_class=HTMLResponse)
def disputes_page(
    request: Request, db: DbDep, session: PageDep, state: Literal["open", "answered", ""] = "open",
    manager: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:  # fmt: skip
    """Managers' disputes with their calls and answers: open ones first in a reviewer's day;
    ``manager``: only on that manager's calls. A manager sees only their own, whatever name is
    asked for: no answer tells whether a colleague of that name exists."""
    whose = own_manager(session.user)
    if whose is None and manager:
        chosen = manager_named(db, manager)
        if chosen is None:
            raise InputError(f"manager {manager!r}: no such manager")
        whose = chosen.id
    found = disputes(db, state or None, whose)
    ids = {d.dispute.report_id for d in found}
    names = {r.id: targets(r.data) for r in db.scalars(select(Report).where(Report.id.in_(ids)))}
    titles = {d.dispute.id: names[d.dispute.report_id].get(d.dispute.target, d.dispute.target) for d in found}
    return render(request, "disputes.html", session, section="disputes", found=found, state=state,
                  titles=titles, manager=manager, managers=manager_names(db))  # fmt: skip


def filter_choices(db: Session, script: str | None = None) -> dict[str, Any]:
    """What the filters offer: managers, script packs, and per pack (only ``script``'s when one is
    chosen) the checkpoints and objection types of its newest version."""
    packs = newest_titles(db)
    shown = {script: packs[script]} if script in packs else packs
    return {"managers": manager_names(db), "scripts": sorted(packs),
            "checkpoints": {p: t.checkpoints for p, t in sorted(shown.items())},
            "objections": {p: t.objections for p, t in sorted(shown.items())}}  # fmt: skip


class ScriptChoice(NamedTuple):
    """The script whose calls a numbers page counts: managers are compared within one, never across."""

    pack: str | None  # None: no call is scored yet
    packs: list[str]  # to choose from, the most used first
    checkpoints: dict[str, str]  # its newest version's titles
    objections: dict[str, str]


def script_choice(db: Session, script: str | None, manager_id: int | None = None) -> ScriptChoice:
    """``script``, or else the most used one (of ``manager_id``'s calls, for one manager's page)."""
    packs = daily.packs(db, manager_id)
    if script and script not in packs:
        raise InputError(f"script {script!r}: no call is scored against it" + (f"; one of {', '.join(packs)}" if packs else ""))
    pack = script or (packs[0] if packs else None)
    titles = newest_titles(db).get(pack) if pack else None
    return ScriptChoice(pack, packs, titles.checkpoints if titles else {}, titles.objections if titles else {})


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(
    call_id: RowId,
    request: Request,
    db: DbDep,
    session: PageDep,
    done: Literal["review", "dispute"] | None = None,
    finished: RowId | None = None,
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """One call; ``q``: the words a transcript search looked for, marked where they were said;
    ``finished``: the call whose review was just finished, from which the queue moved on here."""
    call = own_call(session.user, db.get(Call, call_id))
    audit(db, session.user, "open", call.id)
    report = db.get(Report, call.report_id) if call.report_id else None
    reviews = reviews_of(db, call.id)
    # The reviewers' verdicts on the current report, the latest per target.
    verdicts = {r.target: r.verdict for r in reviews
                if report and r.report_id == report.id and r.kind == "review"}  # fmt: skip
    transcript = call.transcript.data if call.transcript else None
    notice = None
    if done and reviews and reviews[-1].kind == "review":
        notice = f"Saved. Score {reviews[-1].score_before:.1f} → {reviews[-1].score_after:.1f}"
    elif done:
        notice = "Dispute sent to the quality department"
    elif finished:
        notice = f"Review of call {finished} finished. Next in the queue:"
    answers = {r.answers: r for r in reviews if r.answers is not None}
    heard_again = db.scalar(select(Job).where(Job.call_id == call.id, Job.kind == "two_voices").order_by(Job.id.desc()))
    return render(request, "call.html", session, section="calls", call=call,
                  report=(report.reviewed or report.data) if report else None,
                  machine=machine_verdicts(report.data) if report else {},
                  reviewed=report.reviewed_score if report else None,
                  transcript=transcript, duration=call.duration or (transcript or {}).get("duration"),
                  verdicts=verdicts, reviews=reviews, notice=notice, answers=answers,
                  open_disputes={r.target: r for r in reviews if r.kind == "dispute" and r.id not in answers},
                  next_call=next_to_review(db, call.id) if session.user.role in QUALITY else None,
                  machine_score=report.score if report else None, mistake_target=mistake_target,
                  dismissed=[m for m in (report.data["mistakes"] if report else [])  # a reviewer can restore them
                             if verdicts.get(mistake_target(m["code"], m["start"])[0]) is False and is_penalty(m["code"])],
                  targets=targets(report.data) if report else {}, searched=_searched(q),
                  heard_again=heard_again,
                  objection_types=version_titles(db, [report.script_id])[report.script_id].objections
                  if report else {},
                  added_types={t.removeprefix("added:").partition("@")[0] for t in verdicts if t.startswith("added:")})  # fmt: skip


def _searched(q: str) -> Callable[[str], bool] | None:
    """Whether a word of the transcript is one of the words ``q`` searched for (None: no search)."""
    wanted = set(words(q))
    return (lambda said: not wanted.isdisjoint(words(said))) if wanted else None


@router.post("/calls/{call_id}/review")
def review_form(
    call_id: RowId,
    db: DbDep,
    session: QualityForm,
    ctx: ContextDep,
    target: Annotated[str, Form(max_length=120)],
    verdict: Annotated[bool, Form()],
    comment: Annotated[str, Form(max_length=4000)] = "",
    answers: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    """One verdict; the page comes back at the item it was given on."""
    own_call(session.user, db.get(Call, call_id))
    review(ctx, call_id, session.user, {target: verdict}, comment, answers)
    return RedirectResponse(f"/calls/{call_id}?done=review#{anchor(target)}", status_code=303)


@router.post("/calls/{call_id}/finish")
def finish_form(call_id: RowId, db: DbDep, session: QualityForm, ctx: ContextDep) -> RedirectResponse:
    """End the call's review (the verdicts not given confirmed); on to the next call to review."""
    own_call(session.user, db.get(Call, call_id))
    finish(ctx, call_id, session.user)
    following = next_to_review(db, call_id)
    return RedirectResponse(f"/calls/{following}?finished={call_id}" if following else "/review", status_code=303)


@router.post("/calls/{call_id}/objections")
def add_objection_form(
    call_id: RowId,
    db: DbDep,
    session: QualityForm,
    ctx: ContextDep,
    type: Annotated[str, Form(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)],
    at: Annotated[str, Form(max_length=12)],
    verdict: Annotated[bool, Form()],
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    """An objection the machine missed, at a moment of the call (m:ss or seconds); handled or not."""
    call = own_call(session.user, db.get(Call, call_id))
    seconds = _seconds(at, call.duration)
    review(ctx, call_id, session.user, {f"added:{type}@{seconds:.1f}": verdict}, comment)
    return RedirectResponse(f"/calls/{call_id}?done=review#objections-h", status_code=303)


def _seconds(at: str, duration: float | None) -> float:
    """``at`` as m:ss (or h:mm:ss) or seconds, within the call."""
    try:
        parts = [float(p) for p in at.strip().split(":")]
    except ValueError:
        parts = []
    seconds = float(sum(p * 60**k for k, p in enumerate(reversed(parts))))
    if not 1 <= len(parts) <= 3 or not all(math.isfinite(p) and p >= 0 for p in parts):
        raise InputError(f"at: {at!r} is not a moment of the call (m:ss or seconds)")
    if duration is not None and seconds > duration:
        raise InputError(f"at: {at!r} is after the end of the call ({int(duration // 60)}:{int(duration % 60):02d})")
    return seconds


@router.post("/calls/{call_id}/dispute")
def dispute_form(
    call_id: RowId,
    db: DbDep,
    session: ManagerForm,
    ctx: ContextDep,
    target: Annotated[str, Form(max_length=120)],
    comment: Annotated[str, Form(max_length=4000)],
) -> RedirectResponse:
    own_call(session.user, db.get(Call, call_id))
    dispute(ctx, call_id, session.user, target, comment)
    return RedirectResponse(f"/calls/{call_id}?done=dispute#{anchor(target)}", status_code=303)


@router.post("/calls/{call_id}/two-voices")
def two_voices_form(
    call_id: RowId, db: DbDep, session: QualityForm, ctx: ContextDep, background: BackgroundTasks
) -> RedirectResponse:
    """A call heard as one voice, heard again as two (``pipeline.process.hear_as_two``)."""
    own_call(session.user, db.get(Call, call_id))
    script_id, job_id = ask_two_voices(ctx, call_id)
    deferred(background, ctx)(call_id, script_id, job_id, "two_voices")
    return RedirectResponse(f"/calls/{call_id}", status_code=303)


@router.post("/calls/{call_id}/hold")
def hold_form(
    call_id: RowId,
    db: DbDep,
    session: QualityForm,
    reason: Annotated[str, Form(max_length=500)] = "",
    release: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    if not release and not reason.strip():
        raise InputError("reason: say why the call is kept (a dispute, a complaint)")
    hold(db, session.user, own_call(session.user, db.get(Call, call_id)), None if release else reason.strip())
    return RedirectResponse(f"/calls/{call_id}", status_code=303)
