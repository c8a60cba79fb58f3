"""What protects the server and the browser before a route runs: a request body is refused
before it is read (no token, too large) and capped while it is read; headers on every response;
the check that a sign-in was sent from this site (the forms behind a sign-in carry a CSRF token;
the sign-in form itself has no session yet to bind one to)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_TOKEN = "authentication required: send Authorization: Bearer TOKEN"
BAD_TOKEN = "invalid token"
RECORDINGS = ("/api/calls", "/api/webhook/recording")  # the routes that take a recording
MAX_RECORDING = 500 << 20  # bytes of an upload of a recording, with its form fields
MAX_BODY = 2 << 20  # bytes of any other request: JSON, a form, a script pack (1 MiB)
BODY_TIMEOUT = 30.0  # seconds the next piece of a request body may take to arrive

# The pages load nothing from elsewhere. Inline style attributes are allowed (the objection
# timeline places its marks with them); inline scripts are not.
POLICY = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
          "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")  # fmt: skip
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
_OPENAPI_PAGES = ("/docs", "/redoc")  # Swagger UI and ReDoc start with an inline script


class SecurityHeaders:
    """ASGI middleware: HEADERS on every response, and the content security policy on all but
    the OpenAPI pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(HEADERS)
        if not str(scope["path"]).startswith(_OPENAPI_PAGES):
            extra.append((b"content-security-policy", POLICY.encode()))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


def asked_here(request: Request) -> bool:
    """Whether a browser asked for this from a page of this site, or the user typed it in: by
    ``Sec-Fetch-Site`` (every current browser sends it), else as ``from_this_site``."""
    fetched_from = request.headers.get("sec-fetch-site")
    if fetched_from is not None:
        return fetched_from in ("same-origin", "none")
    return from_this_site(request)


def from_this_site(request: Request) -> bool:
    """Whether a form was posted from a page of this site, by the Origin header (every current
    browser sends it with a POST), else the Referer; a client that sends neither is no browser."""
    sent = request.headers.get("origin") or request.headers.get("referer")
    if not sent:
        return True
    return urlsplit(sent).netloc == request.headers.get("host", "")


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class BodyGuard:
    """ASGI middleware for requests that carry a body. Before any of it is read: an API request
    needs a valid token (401), and a declared size over the limit gets 413 (MAX_RECORDING for a
    recording, MAX_BODY for the rest). While it is read: more than the limit gets 413, and a body
    that stalls for BODY_TIMEOUT gets 408. A refused request writes nothing and holds no worker."""

    def __init__(self, app: ASGIApp, token_ok: Callable[[str], bool], timeout: float = BODY_TIMEOUT) -> None:
        self.app, self.token_ok, self.timeout = app, token_ok, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path, headers = str(scope["path"]), Headers(scope=scope)
        limit = MAX_RECORDING if path in RECORDINGS else MAX_BODY
        try:
            if path.startswith("/api/"):
                await self._check_token(headers.get("authorization", ""))
            declared = headers.get("content-length", "")
            if declared and (not declared.isdigit() or int(declared) > limit):
                raise _Refused(413, f"the request is larger than {limit >> 20} MiB, the most this route takes")
        except _Refused as refused:
            await _answer(refused, scope, send)
            return
        await self._capped(scope, receive, send, limit)

    async def _check_token(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Refused(401, NO_TOKEN)
        if not await run_in_threadpool(self.token_ok, token.strip()):
            raise _Refused(401, BAD_TOKEN)

    async def _capped(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received, refusal, whole = 0, None, False

        async def reading() -> Message:
            nonlocal received, refusal, whole
            if whole:  # the body is in: later calls wait for the client to go, as long as it takes
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                refusal = _Refused(408, f"the request body stopped arriving for {self.timeout:g} s")
                raise refusal from None
            received += len(message.get("body", b""))
            whole = not message.get("more_body", False)
            if received > limit:
                refusal = _Refused(413, f"the request is larger than {limit >> 20} MiB, the most this route takes")
                raise refusal
            return message

        async def sending(message: Message) -> None:
            if refusal is None:  # the app's own answer to a refused body (a parse error) is dropped
                await send(message)

        try:
            await self.app(scope, reading, sending)
        except _Refused:
            pass
        if refusal is not None:
            await _answer(refusal, scope, send)


async def _answer(refused: _Refused, scope: Scope, send: Send) -> None:
    headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else {"Connection": "close"}
    response = JSONResponse({"error": refused.message}, status_code=refused.status, headers=headers)
    await response(scope, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
