"""The tables: calls and their metadata, transcripts, reports per script version, managers, scripts, jobs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy import true as sa_true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

Json = JSON().with_variant(JSONB(), "postgresql")


def now() -> datetime:
    return datetime.now(UTC).replace(
        tzinfo=None
    )  # stored as UTC, naive, the same on every database


class Base(DeclarativeBase):
    pass


def outside_the_orm(name: str | None, type_: str, _: object) -> bool:
    """False for the search tables (storage.search), which migrations make by hand."""
    return not (type_ == "table" and (name or "").startswith("transcript_words"))


class Manager(Base):
    __tablename__ = "managers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Script(Base):
    """One version of a script pack, with its YAML as the trainer wrote it."""

    __tablename__ = "scripts"
    __table_args__ = (UniqueConstraint("pack_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(Text)  # the YAML
    created_at: Mapped[datetime] = mapped_column(default=now)


class TeamModel(Base):
    """A team's own pushback model for one script pack, refitted from its reviewed calls
    (``callqa calibrate --objections``): the newest per pack analyses its calls."""

    __tablename__ = "team_models"
    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[str] = mapped_column(String(100), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # analysis.pushback.PushbackModel.dump()
    trained_on: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Call(Base):
    __tablename__ = "calls"
    # A manager's list and page read this index alone (the team and Numbers pages read
    # manager_days). The review queue reads whether a call waits, and its score.
    __table_args__ = (
        Index("ix_calls_manager_score", "manager_id", "score", "at"),
        Index("ix_calls_waiting_score", "waiting", "score"),
        Index("ix_calls_manager_waiting", "manager_id", "waiting", "score"),  # one manager's queue
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the audio file
    audio_key: Mapped[str] = mapped_column(String(500))  # where the file store keeps it
    original_name: Mapped[str] = mapped_column(
        String(500)
    )  # the path it came from, relative to its batch
    duration: Mapped[float | None]
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id"))
    direction: Mapped[str | None] = mapped_column(String(10))  # inbound or outbound
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    client_phone: Mapped[str | None] = mapped_column(String(50))
    deal_id: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(20))  # won, lost, or what the CRM says
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)
    # Kept in step for fast lists: when the call happened (started_at, else stored), its newest
    # report, and that report's score (the reviewed one once reviewed).
    at: Mapped[datetime] = mapped_column(default=now, index=True)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", use_alter=True, ondelete="SET NULL", name="fk_calls_report_id")
    )
    score: Mapped[float | None] = mapped_column(index=True)
    # Retention: a call on hold (a dispute in progress) is not purged; when its audio was purged.
    hold: Mapped[bool] = mapped_column(default=False)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    audio_deleted_at: Mapped[datetime | None]
    # none, reviewed, disputed (a dispute waits for an answer) or answered (storage.reviews); and
    # whether that puts the call in the review queue (not reviewed, or disputed), kept in step.
    review: Mapped[str] = mapped_column(String(10), default="none", server_default="none", index=True)
    waiting: Mapped[bool] = mapped_column(default=True, server_default=sa_true())

    manager: Mapped[Manager | None] = relationship()
    transcript: Mapped[Transcript | None] = relationship(back_populates="call")
    reports: Mapped[list[Report]] = relationship(
        back_populates="call", foreign_keys="Report.call_id"
    )
    jobs: Mapped[list[Job]] = relationship(back_populates="call")


class ManagerDay(Base):
    """One manager's numbers over one day and one script pack (``analysis.kpi.Numbers`` as JSON),
    kept in step with the calls by ``storage.daily``: the Numbers and team pages add up days, not
    reports, and compare managers within a script, never across."""

    __tablename__ = "manager_days"
    manager_id: Mapped[int] = mapped_column(ForeignKey("managers.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True, index=True)
    pack: Mapped[str] = mapped_column(String(100), primary_key=True)  # the calls' script: numbers are per script
    numbers: Mapped[dict[str, Any]] = mapped_column(JSON)
    latest: Mapped[datetime]  # the day's last call


class Transcript(Base):
    __tablename__ = "transcripts"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    engine: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict[str, Any]] = mapped_column(Json)  # the Transcript as JSON
    # Personal data replaced by placeholders (in the text, the reports and the audio); see redact.
    redacted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=now)
    call: Mapped[Call] = relationship(back_populates="transcript")


class Report(Base):
    """A CallReport, one per call and script version."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("call_id", "script_id"), Index("ix_reports_score", "score"))
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    script_id: Mapped[int] = mapped_column(ForeignKey("scripts.id"))
    score: Mapped[float]
    # The CallReport as JSON, transcript left out.
    data: Mapped[dict[str, Any]] = mapped_column(Json)
    # The score after reviewers' overrides (None until reviewed); the machine's stays in ``score``.
    reviewed_score: Mapped[float | None]
    # The CallReport after reviewers' verdicts (mistakes and score follow them); None until reviewed.
    reviewed: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(default=now)
    call: Mapped[Call] = relationship(back_populates="reports", foreign_keys=[call_id])
    script: Mapped[Script] = relationship()
    items: Mapped[list[ReportItem]] = relationship(cascade="all, delete-orphan")


class ReportItem(Base):
    """One verdict of a report, as a row, so lists can filter on it: checkpoint greeting failed, ..."""

    __tablename__ = "report_items"
    __table_args__ = (
        Index("ix_report_items_verdict", "kind", "key", "ok", "report_id"),
    )  # covering
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # checkpoint, objection, or unsure
    key: Mapped[str] = mapped_column(String(100))  # the checkpoint id or objection type; unsure: the review target
    ok: Mapped[bool]  # passed, or handled (unsure: False)


class Job(Base):
    """One piece of work on a call: queued, running, done or failed (with the reason)."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # process, rescore or two_voices
    source: Mapped[str] = mapped_column(String(500))  # the recording's path as given
    state: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    script_id: Mapped[int | None] = mapped_column(ForeignKey("scripts.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    call: Mapped[Call | None] = relationship(back_populates="jobs")


class User(Base):
    """A person or a machine that uses the API: a role, an API token (stored hashed), a password."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # admin, quality, trainer or manager
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the token
    password_hash: Mapped[str | None] = mapped_column(String(200))
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("managers.id")
    )  # a manager's own calls
    created_at: Mapped[datetime] = mapped_column(default=now)
    disabled_at: Mapped[datetime | None]  # set: no sign-in, no token; kept for the history
    token_expires_at: Mapped[datetime | None]  # None: the token does not expire
    manager: Mapped[Manager | None] = relationship()


class WebSession(Base):
    """A signed-in browser: its cookie holds a random key, this row the key's sha256 and when it ends."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))  # forms on the pages carry it back
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]
    user: Mapped[User] = relationship()


class Review(Base):
    """A reviewer's confirmation or override of one verdict, or a manager's dispute of it."""

    __tablename__ = "reviews"
    # Which review answers a dispute: most reviews answer none, and over every row (NULLs counted)
    # SQLite's statistics called an index useless and the disputes inbox scanned them all.
    __table_args__ = (
        Index("ix_reviews_answered", "answers", sqlite_where=text("answers IS NOT NULL"),
              postgresql_where=text("answers IS NOT NULL")),
    )  # fmt: skip
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))  # review or dispute
    target: Mapped[str] = mapped_column(String(120))  # checkpoint:greeting, objection:price
    verdict: Mapped[bool | None]  # passed / handled as the reviewer sees it; None for a dispute
    comment: Mapped[str] = mapped_column(Text, default="")
    score_before: Mapped[float | None]
    score_after: Mapped[float | None]
    # The dispute a review answers.
    answers: Mapped[int | None] = mapped_column(
        ForeignKey("reviews.id", ondelete="SET NULL", name="fk_reviews_answers")
    )
    created_at: Mapped[datetime] = mapped_column(default=now)
    user: Mapped[User] = relationship()


class AccessEntry(Base):
    """Who opened a call, played its audio or exported data, and what retention purged: one row each.

    Append-only: the database refuses to change or delete a row (triggers, migration 0008). Users and
    calls are named, not referenced, so an entry outlives them.
    """

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=now, index=True)
    user_id: Mapped[int | None]  # None: callqa itself (retention)
    user_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20), index=True)  # see storage.access.ACTIONS
    call_id: Mapped[int | None] = mapped_column(index=True)
    detail: Mapped[str] = mapped_column(Text, default="")  # what was exported, what was purged
