"""Script packs: upload a version (validated), list versions, rescore stored calls with one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, UploadFile
from sqlalchemy import select

from api.deps import ContextDep, DbDep, RowId, UserDep, role
from callqa.errors import InputError
from callqa.storage.models import Script, User

router = APIRouter(tags=["scripts"])
Trainer = Annotated[User, Depends(role("admin", "trainer"))]


def _out(script: Script) -> dict[str, Any]:
    return {"id": script.id, "pack": script.pack_id, "version": script.version, "title": script.title,
            "language": script.language, "created_at": script.created_at}  # fmt: skip


@router.get("/scripts")
def list_scripts(db: DbDep, user: UserDep) -> list[dict[str, Any]]:
    """Every stored script version, newest first per pack."""
    return [
        _out(s) for s in db.scalars(select(Script).order_by(Script.pack_id, Script.version.desc()))
    ]


@router.get("/scripts/{script_id}")
def get_script(script_id: RowId, db: DbDep, user: UserDep) -> dict[str, Any]:
    script = db.get(Script, script_id)
    if script is None:
        raise InputError(f"script {script_id}: no such script version")
    return _out(script) | {"source": script.source}


@router.post("/scripts", status_code=201)
def upload_script(
    ctx: ContextDep,
    db: DbDep,
    user: Trainer,
    file: Annotated[UploadFile, File(description="the YAML pack")],
) -> dict[str, Any]:
    """Store a new pack version; an invalid one is refused with the line and what is wrong."""
    from worker.pipeline import store_script

    name = file.filename or "pack.yaml"
    raw = file.file.read(1 << 20)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text") from None
    script_id = store_script(ctx.sessions, text, name)
    return _out(db.get_one(Script, script_id))


@router.post("/scripts/{script_id}/rescore", status_code=202)
def rescore(
    script_id: RowId, db: DbDep, user: Trainer, ctx: ContextDep, background: BackgroundTasks
) -> dict[str, Any]:
    """Re-analyse every stored transcript with this version, after the response; no re-transcription."""
    from worker.pipeline import rescore_all

    script = db.get(Script, script_id)
    if script is None:
        raise InputError(f"script {script_id}: no such script version")
    background.add_task(rescore_all, ctx, f"{script.pack_id}@{script.version}")
    return {"script": _out(script), "status": "rescoring"}
