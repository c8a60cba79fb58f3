"""The application: settings read once, storage opened once, errors mapped in one place.

Errors are JSON (``{"error": ...}``) for the API, and a page for a browser on the pages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import pages
from api.deps import SignIn, get_context, web_session
from api.docs import add_docs
from api.pages.auth import Throttle
from api.pages.templating import render
from api.routes import access, calls, health, jobs, kpis, leads, managers, reviews, scripts
from api.security import BodyGuard, SecurityHeaders
from callqa.errors import CallqaError, InputError, TooLarge
from callqa.settings import Settings
from pipeline.context import Context, Dispatch
from storage.users import user_by_token

_NOT_PAGES = ("/api/", "/health", "/openapi.json", "/docs", "/redoc", "/static")
_TITLES = {401: "Sign in first", 403: "Not allowed", 404: "Not found", 413: "Too large",
           422: "Something in the request is wrong", 503: "Not available"}  # fmt: skip


def create_app(
    settings: Settings | None = None, queue: Callable[[], Dispatch | None] | None = None
) -> FastAPI:
    """The app on ``settings`` (default: from the environment). ``queue``: the workers' queue
    for uploads when one answers (``callqa serve`` passes it); without it, uploads are processed
    in this process after the response."""
    settings = settings or Settings.from_env()
    app = FastAPI(title="callqa", version="0.1.0", description="Sales-call quality analysis",
                  openapi_url=None, docs_url=None, redoc_url=None)  # api.docs: for those signed in
    app.state.context = Context.from_settings(settings, queue)
    app.state.throttle = Throttle()  # failed sign-ins
    app.include_router(health.router)
    for module in (calls, reviews, scripts, jobs, managers, kpis, leads, access):
        app.include_router(module.router, prefix="/api")
    app.include_router(pages.router())
    add_docs(app)
    app.mount("/static", StaticFiles(directory=pages.HERE / "static"), name="static")
    app.add_middleware(BodyGuard, token_ok=lambda token: _token_ok(app.state.context, token))
    app.add_middleware(SecurityHeaders)
    if settings.trusted_proxies:  # the client's address from X-Forwarded-For, only from these
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    @app.exception_handler(SignIn)
    async def _sign_in(_: Request, error: SignIn) -> Response:
        return RedirectResponse(f"/login?{urlencode({'next': error.next_url})}", status_code=303)

    @app.exception_handler(TooLarge)
    async def _too_large(request: Request, error: TooLarge) -> Response:
        return _error(request, 413, str(error))

    @app.exception_handler(InputError)
    async def _bad_input(request: Request, error: InputError) -> Response:
        return _error(request, 422, str(error))

    @app.exception_handler(CallqaError)
    async def _failure(request: Request, error: CallqaError) -> Response:
        return _error(request, 503, str(error))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        return _error(request, error.status_code, error.detail, error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        # Not the input (which may not even be encodable) nor the context (exceptions): where and why.
        details = [{k: e[k] for k in ("type", "loc", "msg")} for e in error.errors()]
        return _error(request, 422, f"{where}: {first['msg']}", details=details)

    return app


def _token_ok(ctx: Context, token: str) -> bool:
    with ctx.sessions() as db:
        return user_by_token(db, token) is not None


def _error(
    request: Request,
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    details: Any = None,
) -> Response:
    if request.url.path.startswith(_NOT_PAGES) or request.url.path == "/":
        body = {"error": message} | ({"details": details} if details is not None else {})
        return JSONResponse(body, status_code=status, headers=headers)
    title = _TITLES.get(status, "Error")
    try:
        with get_context(request).sessions() as db:  # signed in, the page keeps its navigation
            return render(request, "error.html", web_session(db, request), status, title=title, message=message)
    except SQLAlchemyError:  # the database itself failed: the page without it
        return render(request, "error.html", None, status, title=title, message=message)
