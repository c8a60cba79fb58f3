"""The scripts page: packs and their versions; upload or edit a pack (as a new version); rescore."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ContextDep, DbDep, PageDep, RowId, StaffPage, TrainerForm, audit
from api.pages.templating import render
from callqa.errors import InputError, TooLarge
from pipeline.process import rescore_all
from pipeline.scripts import MAX_PACK, pack_text, store_script
from scripts_lib import parse_pack
from scripts_lib.draft import draft_pack, gaps, mine, titles
from storage.days import Day
from storage.drafts import analysed_calls
from storage.models import Script, WebSession
from storage.scripts import newest_version, script_versions

router = APIRouter()
_VERSION = re.compile(r"^version:[ \t]*\d+[ \t]*$", re.MULTILINE)


@router.get("/scripts", response_class=HTMLResponse)
def scripts_page(request: Request, db: DbDep, session: PageDep) -> HTMLResponse:
    packs: dict[str, list[Script]] = {}
    for script in script_versions(db):
        packs.setdefault(script.pack_id, []).append(script)
    return render(
        request, "scripts.html", session, section="scripts", packs=packs, text="", error=None
    )


@router.get("/scripts/{script_id}", response_class=HTMLResponse)
def script_page(
    script_id: RowId,
    request: Request,
    db: DbDep,
    session: PageDep,
    done: Literal["saved", "rescoring"] | None = None,
) -> HTMLResponse:
    script = db.get(Script, script_id)
    if script is None:
        raise HTTPException(404, f"script {script_id}: no such script version")
    latest = newest_version(db, script.pack_id)
    draft = _with_version(script.source, latest + 1)
    notice = {"saved": f"Stored {script.pack_id} version {script.version}",
              "rescoring": "Rescoring every stored call with this version; scores change as it goes"}.get(done or "")  # fmt: skip
    return render(request, "script.html", session, section="scripts", script=script, draft=draft,
                  next_version=latest + 1, notice=notice, error=None)  # fmt: skip


def _with_version(source: str, version: int) -> str:
    """The pack's text with ``version:`` set to ``version`` (added after ``id:`` when missing)."""
    if _VERSION.search(source):
        return _VERSION.sub(f"version: {version}", source, count=1)
    return re.sub(r"^(id:.*)$", rf"\1\nversion: {version}", source, count=1, flags=re.MULTILINE)


@router.post("/scripts", response_model=None)
async def save_script(
    request: Request,
    ctx: ContextDep,
    db: DbDep,
    session: TrainerForm,
    file: Annotated[UploadFile | None, File()] = None,
    text: Annotated[str, Form(max_length=MAX_PACK)] = "",
) -> Response:
    """A pack from an uploaded file or the edit box; invalid ones come back with the error."""
    name = "the edited pack"
    try:
        if file is not None and file.filename:
            name = file.filename
            text = pack_text(name, await file.read(MAX_PACK + 1))
        script_id = store_script(ctx.sessions, text, name)
    except TooLarge as error:
        return _refused(request, session, "", str(error), 413)
    except InputError as error:
        return _refused(request, session, text, str(error))
    return RedirectResponse(f"/scripts/{script_id}?done=saved", status_code=303)


def _refused(request: Request, session: WebSession, text: str, error: str, status: int = 422) -> HTMLResponse:
    return render(
        request, "scripts.html", session, status, section="scripts", packs={}, text=text, error=error
    )


@router.post("/scripts/{script_id}/rescore")
def rescore_form(
    script_id: RowId, db: DbDep, session: TrainerForm, ctx: ContextDep, background: BackgroundTasks
) -> RedirectResponse:
    script = db.get(Script, script_id)
    if script is None:
        raise HTTPException(404, f"script {script_id}: no such script version")
    background.add_task(rescore_all, ctx, f"{script.pack_id}@{script.version}")
    return RedirectResponse(f"/scripts/{script_id}?done=rescoring", status_code=303)


@router.get("/scripts/{script_id}/draft", response_class=HTMLResponse)
def draft_page(
    script_id: RowId, request: Request, db: DbDep, session: StaffPage, since: Day | None = None
) -> HTMLResponse:
    """What works in the team's calls, and the draft of the next version, ready to edit and store."""
    script = db.get(Script, script_id)
    if script is None:
        raise HTTPException(404, f"script {script_id}: no such script version")
    audit(db, session.user, "view", request=request)
    pack = parse_pack(script.source)
    calls = analysed_calls(db, pack.id, since)
    groups, named = mine(calls), titles(pack)
    return render(request, "draft.html", session, section="scripts", script=script, since=since,
                  groups=[(t, named.get(t, t), g) for t, g in groups.items()], draft=draft_pack(pack, groups),
                  next_version=newest_version(db, pack.id) + 1,
                  gaps=[(named[t], why) for t, why in gaps(calls, groups, named).items()] if calls else [])  # fmt: skip


@router.post("/scripts/{script_id}/draft")
def store_draft(
    script_id: RowId, db: DbDep, session: TrainerForm, ctx: ContextDep,
    chosen: Annotated[list[str] | None, Form(max_length=500)] = None,
    since: Annotated[Day | None, Form()] = None,
) -> RedirectResponse:  # fmt: skip
    """The groups a trainer accepted (``TARGET\nPHRASE`` each), added to the pack as its next
    version: validated and stored like any upload, and rescored from its page on request."""
    script = db.get(Script, script_id)
    if script is None:
        raise HTTPException(404, f"script {script_id}: no such script version")
    wanted = {tuple(c.split("\n", 1)) for c in chosen or []}
    if not wanted:
        raise InputError("chosen: accept at least one group")
    pack = parse_pack(script.source)
    groups = mine(analysed_calls(db, pack.id, since))
    picked = {t: [g for g in found if (t, g.representative) in wanted] for t, found in groups.items()}
    if len(wanted) > sum(map(len, picked.values())):
        raise InputError("chosen: the calls changed since the page was opened; reload it and choose again")
    text = _with_version(draft_pack(pack, picked, chosen=True), newest_version(db, pack.id) + 1)
    stored = store_script(ctx.sessions, text, f"the draft of {pack.id}")
    return RedirectResponse(f"/scripts/{stored}?done=saved", status_code=303)
