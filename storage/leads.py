"""Revivable lost leads read from storage: the command line, the API and the page share this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.revive import Revival, revival
from storage.csvtext import csv_text
from storage.days import after
from storage.models import Call, Manager, Report

COLUMNS = ("call_id", "at", "manager", "client_phone", "deal_id", "objection", "moment", "said",
           "revivability", "reasons", "link")  # fmt: skip


class Row(TypedDict):
    """One lead as a flat record: the JSON API's item and the CSV's row (COLUMNS)."""

    call_id: int
    at: str
    manager: str | None
    client_phone: str | None
    deal_id: str | None
    objection: str
    moment: float
    said: str
    revivability: float
    reasons: str
    link: str


@dataclass(frozen=True)
class Lead:
    call_id: int
    at: datetime
    manager: str | None
    client_phone: str | None
    deal_id: str | None
    revival: Revival


def revivable(
    db: Session, since: date | None = None, until: date | None = None, manager_id: int | None = None
) -> list[Lead]:
    """Lost calls (outcome ``lost``) with an unworked objection, most revivable first, then newest."""
    query = (
        select(Call, Manager.name, Report.data)
        .join(Report, Report.id == Call.report_id)
        .outerjoin(Manager, Manager.id == Call.manager_id)
        .where(Call.outcome == "lost")
    )
    if since:
        query = query.where(Call.at >= datetime.combine(since, datetime.min.time()))
    if until:
        query = query.where(
            Call.at < after(until, "until")
        )
    if manager_id is not None:
        query = query.where(Call.manager_id == manager_id)
    leads = []
    for call, name, data in db.execute(query):
        found = revival(data)
        if found is not None:
            leads.append(Lead(call.id, call.at, name, call.client_phone, call.deal_id, found))
    leads.sort(key=lambda lead: (-lead.revival.revivability, -lead.at.timestamp(), -lead.call_id))
    return leads


def row(lead: Lead, base_url: str = "") -> Row:
    r = lead.revival
    return {"call_id": lead.call_id, "at": lead.at.isoformat(timespec="seconds"), "manager": lead.manager,
            "client_phone": lead.client_phone, "deal_id": lead.deal_id, "objection": r.objection,
            "moment": round(r.moment, 1), "said": r.said, "revivability": r.revivability,
            "reasons": "; ".join(r.reasons), "link": f"{base_url}/calls/{lead.call_id}#t={r.moment:.1f}"}  # fmt: skip


def to_csv(leads: list[Lead], base_url: str = "") -> str:
    """CSV for the CRM: one lead per row, a header row, UTF-8 text."""
    return csv_text(COLUMNS, (row(lead, base_url) for lead in leads))
