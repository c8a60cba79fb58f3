"""The review pages: server-rendered HTML (Jinja2) over the same storage as the JSON API.

Signed in with a password (``callqa user password NAME``); a session cookie, and a CSRF token in
every form. Everything is served from here: no CDN, no front-end build. The only script is the
call page's player (``static/call.js``); every page works without it.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import access, auth, calls, kpis, leads, managers, scripts
from api.pages.templating import HERE

__all__ = ["HERE", "router"]


def router() -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    for module in (auth, calls, managers, kpis, leads, scripts, access):
        pages.include_router(module.router)
    return pages
