"""Signing in and out of the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import COOKIE, ContextDep, FormDep
from api.pages import render
from callqa.errors import InputError
from callqa.storage.users import sign_in, sign_out

router = APIRouter()
HOURS = 12


def _local(url: str) -> str:
    """Only a path on this site (no //host, no scheme): the login form must not send users away."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else "/calls"


@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    return RedirectResponse("/calls", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/calls") -> HTMLResponse:
    return render(request, "login.html", None, next=_local(next), name="", error=None)


@router.post("/login", response_model=None)
def login(
    request: Request,
    ctx: ContextDep,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form()] = "/calls",
) -> Response:
    try:
        key, _ = sign_in(ctx.sessions, name, password, HOURS)
    except InputError as error:
        return render(
            request, "login.html", None, 401, next=_local(next), name=name, error=str(error)
        )
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
