"""Dependencies, declared once as ``Annotated`` aliases: the database session, the current user, roles."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.security import BAD_TOKEN, NO_TOKEN, asked_here
from pipeline.context import Context, Dispatch, JobKind
from pipeline.process import hear_as_two, process_call
from storage import access
from storage.managers import manager_named
from storage.models import Call, Manager, User, WebSession
from storage.users import session_by_key, user_by_token


def get_context(request: Request) -> Context:
    return request.app.state.context  # type: ignore[no-any-return]


def get_db(ctx: Annotated[Context, Depends(get_context)]) -> Iterator[Session]:
    with ctx.sessions() as db:
        yield db


ContextDep = Annotated[Context, Depends(get_context)]
# A row id in a path: databases hold 32-bit (SQLite 64-bit) integers; anything bigger is a 422, not a 500.
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
DbDep = Annotated[Session, Depends(get_db)]
_bearer = HTTPBearer(auto_error=False, description="An API token from `callqa user add`")


COOKIE = "callqa_session"


class SignIn(Exception):
    """A page asked for without a session: the browser is sent to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def web_session(db: Session, request: Request) -> WebSession | None:
    """The signed-in browser's session, if any."""
    key = request.cookies.get(COOKIE)
    return session_by_key(db, key) if key else None


def current_user(
    request: Request,
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """A machine's API token, or a signed-in browser's cookie for reading (the pages' player and
    scripts); a browser changes things through the pages' forms, which carry a CSRF token."""
    if credentials is None:
        found = web_session(db, request) if request.method in ("GET", "HEAD") else None
        if found is not None:
            return found.user
        raise HTTPException(401, NO_TOKEN,
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    user = user_by_token(db, credentials.credentials)
    if user is None:
        raise HTTPException(401, BAD_TOKEN, headers={"WWW-Authenticate": "Bearer"})
    return user


def page_session(request: Request, db: DbDep) -> WebSession:
    """The signed-in browser of a page; without one, the login page (and back here after)."""
    found = web_session(db, request)
    if found is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignIn(here if request.method == "GET" else "/calls")  # a form's target is no page
    return found


async def checked_form(
    request: Request, found: Annotated[WebSession, Depends(page_session)]
) -> WebSession:
    """A page form's POST: signed in, and carrying this session's CSRF token."""
    form = await request.form()
    if not hmac.compare_digest(str(form.get("csrf", "")), found.csrf):
        raise HTTPException(403, "the form is out of date: reload the page and send it again")
    return found


UserDep = Annotated[User, Depends(current_user)]
PageDep = Annotated[WebSession, Depends(page_session)]
FormDep = Annotated[WebSession, Depends(checked_form)]


def audit(
    db: Session, user: User, action: str, call_id: int | None = None,
    request: Request | None = None, detail: str = "",
) -> None:  # fmt: skip
    """Add to the access log and commit; the detail is ``detail``, or what was asked for (the path
    and query of ``request``)."""
    if request is not None:
        detail = f"{request.url.path}{'?' + request.url.query if request.url.query else ''}"
    access.record(db, user, action, call_id, detail)
    db.commit()


def exported(db: Session, user: User, request: Request) -> None:
    """Log an export. A signed-in browser that asks for one from another site (a link there, which
    would run it and log it under this user's name) is refused; a token is never sent by itself."""
    if "authorization" not in request.headers and not asked_here(request):
        raise HTTPException(403, "export refused: it was asked for from another site; export from callqa's own pages")
    audit(db, user, "export", request=request)


def own_manager(user: User) -> int | None:
    """Whose calls a user's lists and numbers cover: a manager's own; None (everyone's) otherwise.
    The one place that says so; lists, calls and managers all ask it."""
    return user.manager_id if user.role == "manager" else None


def visible_manager(db: Session, user: User, name: str) -> Manager:
    """The manager named, if this user may see their numbers: managers see only their own."""
    manager = manager_named(db, name)
    if manager is None or own_manager(user) not in (None, manager.id):
        raise HTTPException(404, "no such manager")
    return manager


def own_call(user: User, call: Call | None) -> Call:
    """The call, if this user may see it: managers see only their own (others get 404, not a hint)."""
    if call is None or own_manager(user) not in (None, call.manager_id):
        raise HTTPException(404, "no such call")
    return call


def _allowed(user: User, allowed: tuple[str, ...]) -> None:
    if user.role not in allowed:
        raise HTTPException(403, f"this needs the role {' or '.join(allowed)}; you are {user.role}")


def role(*allowed: str) -> Callable[..., Any]:
    """A dependency that lets only users (API tokens) of these roles through."""

    def check(user: UserDep) -> User:
        _allowed(user, allowed)
        return user

    return check


def page_role(*allowed: str) -> Callable[..., Any]:
    """The same for a signed-in page."""

    def check(found: PageDep) -> WebSession:
        _allowed(found.user, allowed)
        return found

    return check


def form_role(*allowed: str) -> Callable[..., Any]:
    """The same for a page form's POST (its CSRF token checked first)."""

    def check(found: FormDep) -> WebSession:
        _allowed(found.user, allowed)
        return found

    return check


# Who may do what, declared once. The quality department reviews, uploads and holds calls;
# trainers change scripts; staff is everyone but the managers, who see their own calls.
ADMIN, QUALITY, TRAINERS = ("admin",), ("admin", "quality"), ("admin", "trainer")
STAFF, MANAGERS = ("admin", "quality", "trainer"), ("manager",)
Admin = Annotated[User, Depends(role(*ADMIN))]
Quality = Annotated[User, Depends(role(*QUALITY))]
Trainer = Annotated[User, Depends(role(*TRAINERS))]
Staff = Annotated[User, Depends(role(*STAFF))]
ManagerUser = Annotated[User, Depends(role(*MANAGERS))]
AdminPage = Annotated[WebSession, Depends(page_role(*ADMIN))]
StaffPage = Annotated[WebSession, Depends(page_role(*STAFF))]
QualityPage = Annotated[WebSession, Depends(page_role(*QUALITY))]
QualityForm = Annotated[WebSession, Depends(form_role(*QUALITY))]
TrainerForm = Annotated[WebSession, Depends(form_role(*TRAINERS))]
ManagerForm = Annotated[WebSession, Depends(form_role(*MANAGERS))]


def deferred(background: BackgroundTasks, ctx: Context) -> Dispatch:
    """Jobs go to the workers' queue when a worker answers, otherwise run here, after the response."""
    queued = ctx.queue()
    if queued is not None:
        return queued

    def dispatch(call_id: int, script_id: int, job_id: int, kind: JobKind = "process") -> None:
        background.add_task(_run_quietly, ctx, call_id, script_id, job_id, kind)

    return dispatch


def _run_quietly(ctx: Context, call_id: int, script_id: int, job_id: int, kind: JobKind) -> None:
    try:
        (hear_as_two if kind == "two_voices" else process_call)(ctx, call_id, script_id, job_id)
    except Exception:  # noqa: BLE001, S110 - the job records the failure
        pass
