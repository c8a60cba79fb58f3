"""Dependencies, declared once as ``Annotated`` aliases: the database session, the current user, roles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from callqa.storage.models import User
from callqa.storage.users import user_by_token
from worker.pipeline import Context


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


def current_user(
    db: DbDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    if credentials is None:
        raise HTTPException(401, "authentication required: send Authorization: Bearer TOKEN",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    user = user_by_token(db, credentials.credentials)
    if user is None:
        raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})
    return user


UserDep = Annotated[User, Depends(current_user)]


def role(*allowed: str) -> Callable[..., Any]:
    """A dependency that lets only users of these roles through."""

    def check(user: UserDep) -> User:
        if user.role not in allowed:
            raise HTTPException(
                403, f"this needs the role {' or '.join(allowed)}; you are {user.role}"
            )
        return user

    return check
