"""What every page is rendered with: the templates, their filters, and ``render``."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.orm import object_session

from api.deps import own_manager
from storage.models import WebSession
from storage.reviews import open_dispute_count

HERE = Path(__file__).parent.parent
templates = Jinja2Templates(directory=HERE / "templates")


def band(score: float | None) -> str:
    """The colour band of a score: good from 80, fair from 60, poor below."""
    if score is None:
        return "none"
    return "good" if score >= 80 else "fair" if score >= 60 else "poor"


def badge(score: float | None) -> Markup:
    text = "—" if score is None else f"{score:.0f}"
    label = "not scored" if score is None else f"score {score:.1f}, {band(score)}"
    return Markup('<span class="score {}" title="{}">{}</span>').format(band(score), label, text)


def clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = int(seconds)
    return (
        f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
        if whole >= 3600
        else f"{whole // 60:02d}:{whole % 60:02d}"
    )


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def anchor(target: str) -> str:
    """The id of a review target's element on the call page: ``checkpoint-greeting``."""
    return re.sub(r"[^\w-]", "-", target)


templates.env.globals["badge"] = badge
# How a call's review state (storage.reviews.STATES) reads.
templates.env.globals["states"] = {
    "none": "not reviewed", "reviewed": "reviewed", "disputed": "disputed", "answered": "dispute answered"
}
templates.env.filters.update(clock=clock, when=when, anchor=anchor)


def render(
    request: Request, template: str, session: WebSession | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page, with the signed-in user and the CSRF token its forms carry."""
    me = session.user if session else None
    csrf = session.csrf if session else ""
    db = object_session(session) if session else None
    # The navigation's count of disputes that wait for an answer (a manager's own).
    waiting = open_dispute_count(db, own_manager(me)) if db is not None and me is not None else 0
    return templates.TemplateResponse(
        request, template, {"me": me, "csrf": csrf, "waiting": waiting, **context}, status_code=status
    )
