"""What every page is rendered with: the templates, their filters, and ``render``."""

from __future__ import annotations

import re
import unicodedata
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


def odd(name: str) -> str | None:
    """Why a name (a manager's, a file's) could mislead a reviewer, if it could: invisible
    control characters (a right-to-left override turns "invoice\u202egpj.wav" into what reads as
    "invoicevaw.jpg"), or one word mixing scripts (a Cyrillic "А" in "Аlice" beside the real one)."""
    if any(unicodedata.category(c) == "Cf" for c in name):
        return "it holds invisible control characters, shown as codes"
    for word in re.findall(r"[^\W_]+", name):
        scripts = {_script(c) for c in word if c.isalpha()}
        if len(scripts) > 1:
            return f"its letters mix scripts ({' and '.join(sorted(scripts))}) in one word"
    return None


# Scripts that one word of one language writes together.
_TOGETHER = {"Hiragana": "Japanese", "Katakana": "Japanese", "Cjk": "Japanese"}


def _script(letter: str) -> str:
    script = unicodedata.name(letter, "?").split()[0].title()
    return _TOGETHER.get(script, script)


def visible(name: str) -> str:
    """``name`` with every invisible control character written as its code, ⟨U+202E⟩."""
    return "".join(f"⟨U+{ord(c):04X}⟩" if unicodedata.category(c) == "Cf" else c for c in name)


def name_text(name: str | None) -> str:
    """A name for plain text (a title, a choice in a list): marked with ⚠ where it could mislead."""
    if not name:
        return ""
    return f"⚠ {visible(name)}" if odd(name) else name


def shown_name(name: str | None) -> Markup:
    """A name in a page: marked, with why in its title, where it could mislead."""
    if not name:
        return Markup("")
    why = odd(name)
    if why is None:
        return Markup("{}").format(name)
    return Markup('<span class="odd-name" title="{}">⚠ {}</span>').format(why, visible(name))


templates.env.globals["badge"] = badge
# How a call's review state (storage.reviews.STATES) reads.
templates.env.globals["states"] = {
    "none": "not reviewed", "reviewed": "reviewed", "disputed": "disputed", "answered": "dispute answered"
}
templates.env.filters.update(clock=clock, when=when, anchor=anchor, name=shown_name, name_text=name_text)


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
