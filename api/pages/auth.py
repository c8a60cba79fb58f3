"""Signing in and out of the pages.

Password guessing is slowed twice: each check costs an scrypt, and after ``FAILURES`` wrong
passwords for one name from one address within ``WINDOW`` seconds, that name is refused from there
until the oldest of them is ``WINDOW`` old (429). A right password clears the count. The counts
live in the process: each of several server processes keeps its own.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import COOKIE, ContextDep, FormDep, PageDep
from api.pages.templating import render
from api.security import from_this_site
from callqa.errors import InputError
from storage.users import sign_in, sign_out

router = APIRouter()
HOURS = 12
FAILURES = 5
WINDOW = 15 * 60.0


class Throttle:
    """Failed sign-ins by (name, address) within the window; the clock can be replaced in tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._failed: dict[tuple[str, str], deque[float]] = {}

    def wait(self, key: tuple[str, str]) -> float:
        """Seconds until ``key`` may try again; 0 if it may now."""
        failed = self._failed.get(key)
        if failed is None:
            return 0.0
        while failed and failed[0] <= self.clock() - WINDOW:
            failed.popleft()
        if not failed:
            del self._failed[key]
            return 0.0
        return failed[0] + WINDOW - self.clock() if len(failed) >= FAILURES else 0.0

    def failed(self, key: tuple[str, str]) -> None:
        self._failed.setdefault(key, deque()).append(self.clock())

    def succeeded(self, key: tuple[str, str]) -> None:
        self._failed.pop(key, None)


def _local(url: str) -> str:
    """Only a path on this site (no //host, no scheme): the login form must not send users away."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else "/calls"


@router.get("/", response_class=RedirectResponse)
def home(session: PageDep) -> RedirectResponse:
    """Where signing in lands: the review queue for reviewers, the calls for everyone else."""
    return RedirectResponse("/review" if session.user.role == "quality" else "/calls", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", None, next=_local(next), name="", error=None)


@router.post("/login", response_model=None)
def login(
    request: Request,
    ctx: ContextDep,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    if not from_this_site(request):
        error = "sign-in refused: the form was sent from another site"
        return render(request, "login.html", None, 403, next="/calls", name="", error=error)
    guesses: Throttle = request.app.state.throttle
    who = (name.strip().casefold(), request.client.host if request.client else "")
    if wait := guesses.wait(who):
        minutes = math.ceil(wait / 60)
        error = f"too many wrong passwords for {name}: try again in {minutes} min"
        return render(request, "login.html", None, 429, next=_local(next), name=name, error=error)
    try:
        key, _ = sign_in(ctx.sessions, name, password, HOURS)
    except InputError as error:
        guesses.failed(who)
        return render(
            request, "login.html", None, 401, next=_local(next), name=name, error=str(error)
        )
    guesses.succeeded(who)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(COOKIE, key, max_age=HOURS * 3600, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")  # fmt: skip
    return response


@router.post("/logout")
def logout(request: Request, ctx: ContextDep, _: FormDep) -> RedirectResponse:
    sign_out(ctx.sessions, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response
