"""The key numbers per manager and period, compared with the manager's own recent past and the team.

The table a head of sales fills every evening: calls, talk time, score, pass rate per stage,
objections met and handled, time clients stay stuck in objections, next steps agreed, and the
conversion of calls with a known outcome. A call heard as one voice (a voicemail, a monologue)
counts as a call and its talk time, but not in the score, the pass rates or the objections: its
client's side went unchecked, so its verdicts say nothing of the manager's work. A drop is
flagged when a number falls clearly below the manager's trailing average: by more than a
practical margin and by more than chance explains (a z statistic under -2 for the difference
of two means or two proportions).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypedDict

NEXT_STEP = "next_step"  # the checkpoint id that counts as an agreed next step
# A drop must be at least this big to be worth a head of sales' attention, besides significant.
MARGINS = {"average_score": 5.0, "handled_share": 0.15, "conversion": 0.15, "pass_rate": 0.2}
TRAILING = 4  # periods of the manager's own past to compare with


class Figures(TypedDict):
    """One manager's (or the team's) numbers over a period, as the table shows them; None where
    there is nothing to measure."""

    calls: int
    one_voice: int  # of the calls, those heard as one voice: not in the score, pass rates or objections
    unreliable: int  # of the calls, those whose words may not be what was said: the same
    talk_minutes: float
    average_duration: float | None
    average_score: float | None
    pass_rate: dict[str, float]  # checkpoint id -> share of calls that passed it
    objections: int
    handled_share: float | None
    stuck_seconds: float | None
    next_steps: int
    conversion: float | None


class Drop(TypedDict):
    what: str  # a figure, or pass_rate:CHECKPOINT
    before: float
    now: float
    z: float


class Unflagged(TypedDict):
    """A fall as large as a flagged drop's that is not flagged, and why."""

    what: str
    before: float
    now: float
    z: float | None  # None: too few calls for one
    why: str


class Row(Figures):
    """A manager's line of the table: this period, their trailing average, the rest of the team."""

    manager: str
    period: str
    trailing: Figures | None
    team: Figures | None
    drops: list[Drop]
    unflagged: list[Unflagged]
    # Why no drop can be flagged yet (too few calls now or before), or None.
    too_little: str | None


@dataclass(frozen=True)
class CallFacts:
    """One analysed call, as the numbers need it."""

    manager: str
    at: datetime
    duration: float  # seconds
    score: float
    outcome: str | None  # won, lost, or unknown
    report: dict[str, Any]  # the CallReport as JSON, as reviewed once it is
    reviewed: bool = False  # a reviewer or a dispute has looked at it


@dataclass
class Numbers:
    """One manager's numbers over one period (or a trailing window), as sums, so that days add up
    to weeks (``storage.daily`` keeps one per manager and day)."""

    calls: int = 0
    one_voice: int = 0  # calls heard as one voice, counted in calls and talk time only
    unreliable: int = 0  # calls whose words may not be what was said (CallReport.unreliable): the same
    talk_seconds: float = 0.0
    scored: int = 0
    score_sum: float = 0.0
    score_squares: float = 0.0  # for the spread, in the test of a drop
    passed: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # id -> [ok, n]
    objections: int = 0
    handled: int = 0
    stuck_calls: int = 0  # calls with objections
    stuck_seconds: float = 0.0  # seconds the client stayed in objections, summed over those calls
    next_steps: int = 0
    won: int = 0
    decided: int = 0  # calls with outcome won or lost
    reviewed: int = 0  # calls a reviewer or a dispute has looked at

    def add(self, call: CallFacts) -> None:
        self.calls += 1
        self.talk_seconds += call.duration
        if call.outcome in ("won", "lost"):
            self.decided += 1
            self.won += call.outcome == "won"
        self.reviewed += call.reviewed
        if call.report.get("one_voice"):
            self.one_voice += 1
            return
        if call.report.get("unreliable"):
            self.unreliable += 1
            return
        self.scored += 1
        self.score_sum += call.score
        self.score_squares += call.score**2
        for c in call.report["checkpoints"]:
            self.passed[c["id"]][0] += bool(c["passed"])
            self.passed[c["id"]][1] += 1
            self.next_steps += c["id"] == NEXT_STEP and bool(c["passed"])
        # One definition everywhere (the score's, the manager page's): each objection type raised
        # in a call counts once, handled or not the last time it was raised.
        last = {o["type"]: o for o in call.report["objections"]}
        self.objections += len(last)
        self.handled += sum(bool(o["handled"]) for o in last.values())
        if call.report["objections"]:
            self.stuck_calls += 1
            self.stuck_seconds += call.report["metrics"]["objection_seconds"]

    def merge(self, other: Numbers) -> None:
        for name, value in vars(other).items():
            if name == "passed":
                for key, (ok, n) in value.items():
                    self.passed[key][0] += ok
                    self.passed[key][1] += n
            else:
                setattr(self, name, getattr(self, name) + value)

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), "passed": dict(self.passed)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Numbers:
        numbers = cls(**{k: v for k, v in data.items() if k != "passed"})
        numbers.passed.update(data["passed"])
        return numbers

    @property
    def average_score(self) -> float | None:
        return self.score_sum / self.scored if self.scored else None

    def score_variance(self) -> float:
        """The sample variance of the scores (0 for fewer than two)."""
        if self.scored < 2:
            return 0.0
        return max(0.0, (self.score_squares - self.score_sum**2 / self.scored) / (self.scored - 1))

    def row(self) -> Figures:
        average = self.average_score
        return {
            "calls": self.calls,
            "one_voice": self.one_voice,
            "unreliable": self.unreliable,
            "talk_minutes": round(self.talk_seconds / 60, 1),
            "average_duration": round(self.talk_seconds / self.calls, 1) if self.calls else None,
            "average_score": round(average, 1) if average is not None else None,
            "pass_rate": {k: round(ok / n, 3) for k, (ok, n) in sorted(self.passed.items()) if n},
            "objections": self.objections,
            "handled_share": round(self.handled / self.objections, 3) if self.objections else None,
            "stuck_seconds": round(self.stuck_seconds / self.stuck_calls, 1) if self.stuck_calls else None,
            "next_steps": self.next_steps,
            "conversion": round(self.won / self.decided, 3) if self.decided else None,
        }


def period_of(moment: datetime | date, period: str) -> str:
    """``2026-11-27`` for a day, ``2026-W48`` for an ISO week."""
    if period == "day":
        return moment.strftime("%Y-%m-%d")
    iso = moment.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def table(by: Mapping[str, Mapping[str, Numbers]], when: str) -> list[Row]:
    """Each manager's numbers for the period ``when``, with their trailing average, the team's,
    and the drops flagged; ``by``: each manager's numbers per period (``storage.kpis`` adds up
    the days ``storage.daily`` keeps)."""
    team = Numbers()
    for periods in by.values():
        if when in periods:
            team.merge(periods[when])
    rows: list[Row] = []
    for manager, periods in sorted(by.items()):
        if when not in periods:
            continue
        now = periods[when]
        past = sorted(p for p in periods if p < when)[-TRAILING:]
        trailing = Numbers()
        for p in past:
            trailing.merge(periods[p])
        others = Numbers()
        for name, theirs in by.items():
            if name != manager and when in theirs:
                others.merge(theirs[when])
        rows.append({**now.row(), "manager": manager, "period": when,
                     "trailing": trailing.row() if trailing.calls else None,
                     "team": others.row() if others.calls else None,
                     "drops": drops(now, trailing), "unflagged": unflagged(now, trailing),
                     "too_little": too_little(now, trailing, len(past))})  # fmt: skip
    return rows


def too_little(now: Numbers, before: Numbers, periods: int) -> str | None:
    """Why a fall in the score cannot be told from chance yet: fewer than two scored calls in the
    period, or in the periods before it."""
    if now.scored >= 2 and before.scored >= 2:
        return None
    return (f"too little history to flag a drop: {now.scored} scored call(s) now, "
            f"{before.scored} in the {periods} period(s) before (2 needed in each)")  # fmt: skip


def neighbours(when: str) -> tuple[str, str]:
    """The periods before and after ``when`` (``2026-W48``: weeks; ``2026-11-27``: days)."""
    if "-W" in when:
        year, week = when.split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
        return period_of(monday - timedelta(days=7), "week"), period_of(monday + timedelta(days=7), "week")
    day = date.fromisoformat(when)
    return period_of(day - timedelta(days=1), "day"), period_of(day + timedelta(days=1), "day")


def drops(now: Numbers, before: Numbers) -> list[Drop]:
    """The numbers that fell significantly below ``before``: what, from, to, and z."""
    return [_drop(what, was, is_, z) for what, was, is_, z, why in _falls(now, before) if why is None and z is not None]


def unflagged(now: Numbers, before: Numbers) -> list[Unflagged]:
    """The numbers that fell below ``before`` by a flagged drop's margin or more but are not
    flagged, each with why: too few calls to tell, or within the spread of the calls."""
    return [{"what": what, "before": round(was, 3), "now": round(is_, 3), "z": None if z is None else round(z, 2), "why": why}
            for what, was, is_, z, why in _falls(now, before) if why]


def _falls(now: Numbers, before: Numbers) -> list[tuple[str, float, float, float | None, str | None]]:
    """Each number that fell by its margin or more: what, from, to, z, and why it is not flagged
    (None: it is)."""
    found: list[tuple[str, float, float, float | None, str | None]] = []
    if now.scored and before.scored:
        was, is_ = before.score_sum / before.scored, now.score_sum / now.scored
        if was - is_ >= MARGINS["average_score"]:
            counts = f"{now.scored} scored call(s) now, {before.scored} before"
            if now.scored < 2 or before.scored < 2:
                found.append(("average_score", was, is_, None, f"too few calls to be sure ({counts}; 2 needed in each)"))
            else:
                z = _z_means(now, before)
                found.append(("average_score", was, is_, z, None if z < -2 else _within(z, counts)))
    pairs = [("handled_share", (now.handled, now.objections), (before.handled, before.objections)),
             ("conversion", (now.won, now.decided), (before.won, before.decided))]  # fmt: skip
    for k in sorted(now.passed):
        if k in before.passed:
            (ok, n), (ok0, n0) = now.passed[k], before.passed[k]
            pairs.append((f"pass_rate:{k}", (ok, n), (ok0, n0)))
    for name, (ok, n), (ok0, n0) in pairs:
        margin = MARGINS["pass_rate" if name.startswith("pass_rate") else name]
        if not n or not n0 or ok0 / n0 - ok / n < margin:
            continue
        z = _z_proportions(ok, n, ok0, n0)
        found.append((name, ok0 / n0, ok / n, z, None if z < -2 else _within(z, f"{n} call(s) now, {n0} before")))
    return found


def _within(z: float, counts: str) -> str:
    return f"within what chance gives over so few calls (z {z:.1f}, a drop is flagged under −2; {counts})"


def _drop(what: str, before: float, now: float, z: float) -> Drop:
    # z is infinite where neither period's calls vary: kept finite for JSON
    return {"what": what, "before": round(before, 3), "now": round(now, 3), "z": round(max(-99.0, min(99.0, z)), 2)}


def _z_means(now: Numbers, before: Numbers) -> float:
    spread = now.score_variance() / now.scored + before.score_variance() / before.scored
    difference = now.score_sum / now.scored - before.score_sum / before.scored
    return difference / math.sqrt(spread) if spread > 0 else (-math.inf if difference < 0 else 0.0)


def _z_proportions(ok: int, n: int, ok0: int, n0: int) -> float:
    pooled = (ok + ok0) / (n + n0)
    spread = pooled * (1 - pooled) * (1 / n + 1 / n0)
    difference = ok / n - ok0 / n0
    return difference / math.sqrt(spread) if spread > 0 else 0.0
