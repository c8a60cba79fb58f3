"""What every page is rendered with: the templates, their filters, and ``render``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from storage.models import WebSession

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


templates.env.globals["badge"] = badge
templates.env.filters.update(clock=clock, when=when)


def render(
    request: Request, template: str, session: WebSession | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page, with the signed-in user and the CSRF token its forms carry."""
    me = session.user if session else None
    csrf = session.csrf if session else ""
    return templates.TemplateResponse(
        request, template, {"me": me, "csrf": csrf, **context}, status_code=status
    )
