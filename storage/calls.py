"""The call list: its filters and its one query, for the JSON API, the pages and ``callqa calls``."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callqa.errors import InputError
from storage import search as words
from storage.csvtext import csv_text
from storage.days import Day, after
from storage.models import Call, Job, Manager, Report, ReportItem, Script, Transcript

Sort = Literal["time", "-time", "score", "-score"]
ReviewFilter = Literal["none", "reviewed", "disputed", "answered", "to_review"]
_ORDERS: dict[str, Any] = {"time": Call.at.asc(), "-time": Call.at.desc(),
                           "score": Call.score.asc().nulls_last(), "-score": Call.score.desc().nulls_last()}  # fmt: skip


class CallQuery(BaseModel):
    """Filters, sorting and the page of a call list. Empty values (from a page's form) mean no filter."""

    date_from: Day | None = None
    date_to: Day | None = None
    manager: str | None = None
    script: str | None = Field(default=None, description="script pack id")
    score_min: float | None = Field(default=None, ge=0, le=100)
    score_max: float | None = Field(default=None, ge=0, le=100)
    outcome: str | None = None
    failed_checkpoint: str | None = Field(
        default=None, description="a checkpoint id that was missed; SCRIPT:ID sets the script too"
    )
    objection: str | None = Field(
        default=None, description="an objection type the client raised; SCRIPT:ID sets the script too"
    )
    handled: bool | None = Field(default=None, description="with objection: handled or not")
    unsure: bool | None = Field(
        default=None, description="true: only calls with verdicts marked unsure that no reviewer has given"
    )
    one_voice: bool | None = Field(
        default=None, description="true: only calls heard as one voice (a voicemail, a monologue); false: none of them"
    )
    review: ReviewFilter | None = Field(
        default=None, description="review state; to_review: not reviewed or with an open dispute"
    )
    q: str | None = Field(
        default=None, min_length=2, description="words in the transcript, all of them, whole words"
    )
    sort: Sort = "-time"
    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=50, ge=1, le=200)

    model_config = {"extra": "ignore"}

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _item_of_a_script(self) -> CallQuery:
        """An item named with its script (``fleettrack:greeting``, as the pages' filters send it):
        two scripts may share an id."""
        for name in ("failed_checkpoint", "objection"):
            script, _, item = (getattr(self, name) or "").rpartition(":")
            if script:
                if self.script not in (None, script):
                    raise ValueError(f"{name}: {script!r}'s item, but script {self.script!r} is chosen")
                self.script = script
                setattr(self, name, item)
        return self

    def args(self, **changes: Any) -> dict[str, Any]:
        """The set filters as query arguments, with ``changes`` (for links to other pages or sorts)."""
        values = self.model_dump(mode="json", exclude_defaults=True) | changes
        return {k: v for k, v in values.items() if v not in (None, "")}


class ListRow(NamedTuple):
    call: Call
    manager: str | None
    pack: str | None  # the script of its current report
    version: int | None
    script_id: int | None  # that script version's row


class CallPage(NamedTuple):
    rows: list[ListRow]
    total: int  # rows that match, on every page


def search_calls(
    db: Session, f: CallQuery, manager_id: int | None = None, limit: int | None = None,
    only: Collection[int] | None = None,
) -> CallPage:  # fmt: skip
    """(call, manager name, script pack id, script version, its id) rows of one page, and the total.
    ``manager_id``: only that manager's calls (what a manager may see); ``limit``: this many rows
    from the first instead of the query's page; ``only``: among these calls (a sample)."""
    query = (
        select(Call, Manager.name, Script.pack_id, Script.version, Script.id)
        .outerjoin(Manager, Call.manager_id == Manager.id)
        .outerjoin(Report, Report.id == Call.report_id)
        .outerjoin(Script, Script.id == Report.script_id)
    )
    conditions = _conditions(f, manager_id, words.dialect(db))
    if only is not None:
        conditions.append(Call.id.in_(only))
    count = select(func.count(Call.id))  # no join to managers: it alone makes SQLite scan every call
    if f.script:
        count = count.outerjoin(Report, Report.id == Call.report_id).outerjoin(
            Script, Script.id == Report.script_id
        )
    total = db.scalar(count.where(*conditions)) or 0
    # In the queue no score is missing, so "worst first" can read the index in order.
    order = Call.score.asc() if f.review == "to_review" and f.sort == "score" else _ORDERS[f.sort]
    ordered = query.where(*conditions).order_by(order, Call.id.desc())
    page = ordered.limit(limit) if limit else ordered.offset((f.page - 1) * f.per_page).limit(f.per_page)
    return CallPage([ListRow(*r) for r in db.execute(page)], total)


def _conditions(f: CallQuery, manager_id: int | None, dialect: str) -> list[Any]:
    conditions = []
    if manager_id is not None:
        conditions.append(Call.manager_id == manager_id)
    if f.date_from:
        conditions.append(Call.at >= datetime.combine(f.date_from, datetime.min.time()))
    if f.date_to:
        end = after(f.date_to, "date_to")
        conditions.append(Call.at < end)
    if f.manager:  # by id, so that the manager's index serves
        conditions.append(Call.manager_id == select(Manager.id).where(Manager.name == f.manager).scalar_subquery())
    if f.script:
        conditions.append(Script.pack_id == f.script)
    if f.score_min is not None:
        conditions.append(Call.score >= f.score_min)
    if f.score_max is not None:
        conditions.append(Call.score <= f.score_max)
    if f.outcome:
        conditions.append(Call.outcome == f.outcome.lower())
    if f.failed_checkpoint:
        conditions.append(_has_item(Call.report_id, "checkpoint", f.failed_checkpoint, False))
    if f.objection:
        conditions.append(_has_item(Call.report_id, "objection", f.objection, f.handled))
    if f.unsure:
        conditions.append(Call.report_id.in_(select(ReportItem.report_id).where(ReportItem.kind == "unsure")))
    if f.one_voice is not None:
        conditions.append(heard_alone(Call.report_id) if f.one_voice else ~heard_alone(Call.report_id))
    if f.review == "to_review":  # the queue: scored calls that wait, by the (waiting, score) index
        conditions += [Call.waiting.is_(True), Call.score.is_not(None)]
    elif f.review:
        conditions.append(Call.review == f.review)
    if f.q:
        if not words.words(f.q):
            raise InputError(f"q: {f.q!r} has no words to search for")
        conditions.append(Call.id.in_(words.calls_with(dialect, f.q)))
    return conditions


def heard_alone(report_id: Any) -> Any:
    """Whether the report is of a recording heard as one voice (its verdicts leave the client out)."""
    return _has_item(report_id, "voices", "one", None)


def unscored(report_id: Any) -> Any:
    """Whether the call stays out of the scores and rates (``analysis.kpi``): heard as one voice,
    or its transcript in doubt (``CallReport.unreliable``)."""
    return heard_alone(report_id) | _has_item(report_id, "transcript", "unreliable", None)


def _has_item(report_id: Any, kind: str, key: str, ok: bool | None) -> Any:
    """A verdict of the call's newest report, found by the (kind, key, ok) index."""
    reports = select(ReportItem.report_id).where(ReportItem.kind == kind, ReportItem.key == key)
    if ok is not None:
        reports = reports.where(ReportItem.ok == ok)
    return report_id.in_(reports)


EXPORT_ROWS = 100_000  # the most calls one list export (or sample) holds
EXPORT_COLUMNS = ("id", "file", "manager", "at", "duration", "score", "outcome", "direction", "deal_id",
                  "script", "review", "failed_checkpoints", "unsure", "url")  # fmt: skip


def calls_csv(db: Session, rows: list[ListRow], base: str) -> str:
    """The rows of a call list as CSV for a spreadsheet: one line per call, its page's address."""
    chips = verdict_chips(db, [r.call.report_id for r in rows if r.call.report_id])
    return csv_text(EXPORT_COLUMNS, (
        {"id": r.call.id, "file": r.call.original_name, "manager": r.manager or "",
         "at": r.call.at.isoformat(sep=" ", timespec="minutes"), "duration": r.call.duration, "score": r.call.score,
         "outcome": r.call.outcome or "", "direction": r.call.direction or "", "deal_id": r.call.deal_id or "",
         "script": f"{r.pack} v{r.version}" if r.pack else "", "review": r.call.review,
         "failed_checkpoints": " ".join(chips.failed.get(r.call.report_id or 0, [])),
         "unsure": chips.unsure.get(r.call.report_id or 0, 0), "url": f"{base}/calls/{r.call.id}"}
        for r in rows
    ))  # fmt: skip


def next_to_review(db: Session, after: int, manager_id: int | None = None) -> int | None:
    """The worst call other than ``after`` that waits for a review (not reviewed, or disputed)."""
    waiting = _conditions(CallQuery(review="to_review"), manager_id, words.dialect(db))
    query = select(Call.id).where(*waiting, Call.id != after).order_by(Call.score.asc(), Call.id.desc())
    return db.scalar(query.limit(1))


class Chips(NamedTuple):
    failed: dict[int, list[str]]  # by report: the checkpoints it failed
    unsure: dict[int, int]  # by report: its verdicts still unsure
    one_voice: set[int]  # the reports of recordings heard as one voice


def verdict_chips(db: Session, report_ids: list[int]) -> Chips:
    """What the list's chips show for these reports, one query.

    Selected by report id alone, so the planner takes the report_id index (the verdict index
    would scan every report's checkpoints); the rest is filtered here.
    """
    rows = db.execute(
        select(ReportItem.report_id, ReportItem.kind, ReportItem.key, ReportItem.ok)
        .where(ReportItem.report_id.in_(report_ids))
        .order_by(ReportItem.id)
    )
    chips = Chips({}, {}, set())
    for report_id, kind, key, ok in rows:
        if kind == "checkpoint" and not ok:
            chips.failed.setdefault(report_id, []).append(key)
        elif kind == "unsure":
            chips.unsure[report_id] = chips.unsure.get(report_id, 0) + 1
        elif kind == "voices":
            chips.one_voice.add(report_id)
    return chips


def last_jobs(db: Session, call_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """The state and error of each of these calls' last job, one query."""
    newest = select(func.max(Job.id)).where(Job.call_id.in_(call_ids)).group_by(Job.call_id)
    rows = db.execute(select(Job.call_id, Job.state, Job.error).where(Job.id.in_(newest)))
    return {call_id: (state, error) for call_id, state, error in rows if call_id is not None}


def unredacted_calls(db: Session) -> list[int]:
    """The calls whose stored transcript still holds personal data."""
    return list(db.scalars(select(Transcript.call_id).where(Transcript.redacted.is_(False))))
