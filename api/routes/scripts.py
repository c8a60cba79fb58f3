"""Script packs: upload a version (validated), list versions, rescore stored calls with one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, File, Request, UploadFile
from fastapi.responses import Response

from api.deps import ContextDep, DbDep, RowId, Staff, Trainer, UserDep, exported
from api.routes import attachment
from callqa.errors import InputError
from pipeline.process import rescore_all
from pipeline.scripts import MAX_PACK, pack_text, store_script
from scripts_lib import parse_pack
from scripts_lib.draft import draft_pack, markdown
from storage.days import Day
from storage.drafts import mined
from storage.models import Script
from storage.scripts import script_versions

router = APIRouter(tags=["scripts"])


def _out(script: Script) -> dict[str, Any]:
    return {"id": script.id, "pack": script.pack_id, "version": script.version, "title": script.title,
            "language": script.language, "created_at": script.created_at}  # fmt: skip


@router.get("/scripts")
def list_scripts(db: DbDep, user: UserDep) -> list[dict[str, Any]]:
    """Every stored script version, newest first per pack."""
    return [_out(s) for s in script_versions(db)]


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
    name = file.filename or "pack.yaml"
    text = pack_text(name, file.file.read(MAX_PACK + 1))
    script_id = store_script(ctx.sessions, text, name)
    return _out(db.get_one(Script, script_id))


@router.post("/scripts/{script_id}/rescore", status_code=202)
def rescore(
    script_id: RowId, db: DbDep, user: Trainer, ctx: ContextDep, background: BackgroundTasks
) -> dict[str, Any]:
    """Re-analyse every stored transcript with this version, after the response; no re-transcription."""
    script = db.get(Script, script_id)
    if script is None:
        raise InputError(f"script {script_id}: no such script version")
    background.add_task(rescore_all, ctx, f"{script.pack_id}@{script.version}")
    return {"script": _out(script), "status": "rescoring"}


@router.get("/scripts/{script_id}/draft", response_model=None)
def draft(
    request: Request,
    script_id: RowId,
    db: DbDep,
    user: Staff,
    since: Day | None = None,
    until: Day | None = None,
    format: Literal["json", "yaml", "markdown"] = "json",
) -> dict[str, Any] | Response:
    """What the team's calls say at each stage and in answer to each objection, grouped and
    ranked by how often those calls were won; ``yaml``: a draft of the pack's next version,
    ``markdown``: a handout for training."""
    script = db.get(Script, script_id)
    if script is None:
        raise InputError(f"script {script_id}: no such script version")
    pack = parse_pack(script.source)
    groups = mined(db, pack.id, since, until)
    exported(db, user, request)
    if format == "yaml":
        return attachment(draft_pack(pack, groups), "application/yaml", f"{pack.id}-v{pack.version + 1}-draft.yaml")
    if format == "markdown":
        base = str(request.base_url).rstrip("/")
        return attachment(markdown(pack, groups, base), "text/markdown", f"{pack.id}-training.md")
    return {target: [{"representative": g.representative, "calls": g.calls, "won_rate": g.won_rate, "team_rate": g.team_rate,
                      "lift": round(g.lift, 3), "managers": sorted({m.manager for m in g.members if m.manager}),
                      "moments": [{"call": m.call_id, "start": m.start, "text": m.text} for m in g.members]}
                     for g in found] for target, found in groups.items()}  # fmt: skip
