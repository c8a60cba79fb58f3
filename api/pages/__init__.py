"""The review pages: server-rendered HTML (Jinja2) over the same storage as the JSON API.

Signed in with a password (``callqa user password NAME``); a session cookie, and a CSRF token in
every form. Everything is served from here: no CDN, no front-end build. The only script is the
call page's player (``static/call.js``); every page works without it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
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


def router() -> APIRouter:
    from api.pages import access, auth, calls, kpis, leads, managers, scripts

    pages = APIRouter(include_in_schema=False)
    for module in (auth, calls, managers, kpis, leads, scripts, access):
        pages.include_router(module.router)
    return pages
