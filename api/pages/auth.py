"""Signing in and out of the pages.

Password guessing is slowed three ways: each check costs an scrypt; a try is counted *before*
its password is checked, so that guesses sent at once are held like guesses sent one by one; and
the counts are kept per name from one address (``FAILURES``), per address over every name
(``ADDRESS_FAILURES``: one machine trying many names) and per name over every address
(``NAME_FAILURES``: many machines trying one name). Once a count reaches its limit within
``WINDOW`` seconds, the try is refused (429) until the oldest counted try is ``WINDOW`` old. A
right password takes its own try off the counts and clears the name's count from that address.
The per-name limit is high, so that locking a colleague out takes many guesses from many
machines. The counts live in the process: each of several server processes keeps its own.
"""

from __future__ import annotations

import math
import threading
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
FAILURES = 5  # per name from one address
ADDRESS_FAILURES = 20  # per address, over every name
NAME_FAILURES = 50  # per name, over every address
WINDOW = 15 * 60.0


class Throttle:
    """Sign-in tries within the window, per name and address, per address and per name; the
    clock can be replaced in tests. Safe to share between threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._tries: dict[tuple[str, ...], deque[float]] = {}

    @staticmethod
    def _limits(name: str, address: str) -> list[tuple[tuple[str, ...], int]]:
        name = name.strip().casefold()
        return [(("pair", name, address), FAILURES), (("address", address), ADDRESS_FAILURES),
                (("name", name), NAME_FAILURES)]  # fmt: skip

    def begin(self, name: str, address: str) -> float:
        """Count a try of ``name`` from ``address`` before its password is checked. Seconds to
        wait if a limit is reached (and nothing is counted); 0 if the try may go on."""
        with self._lock:
            now, limits = self.clock(), self._limits(name, address)
            for key, _ in limits:
                tries = self._tries.get(key)
                while tries and tries[0] <= now - WINDOW:
                    tries.popleft()
                if tries is not None and not tries:
                    del self._tries[key]
            wait = max((self._tries[key][0] + WINDOW - now for key, limit in limits
                        if len(self._tries.get(key, ())) >= limit), default=0.0)  # fmt: skip
            if wait > 0:
                return wait
            for key, _ in limits:
                self._tries.setdefault(key, deque()).append(now)
            return 0.0

    def succeeded(self, name: str, address: str) -> None:
        """The right password: its try is no guess, and the name is free again from there."""
        with self._lock:
            pair, *others = self._limits(name, address)
            self._tries.pop(pair[0], None)
            for key, _ in others:
                tries = self._tries.get(key)
                if tries:
                    tries.pop()
                if tries is not None and not tries:
                    del self._tries[key]


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
    address = request.client.host if request.client else ""
    if wait := guesses.begin(name, address):
        minutes = math.ceil(wait / 60)
        error = f"too many wrong passwords for {name}: try again in {minutes} min"
        return render(request, "login.html", None, 429, next=_local(next), name=name, error=error)
    try:
        key, _ = sign_in(ctx.sessions, name, password, HOURS)
    except InputError as error:
        return render(
            request, "login.html", None, 401, next=_local(next), name=name, error=str(error)
        )
    guesses.succeeded(name, address)
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
