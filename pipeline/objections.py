"""A team's own pushback model, refitted from the objections its reviewers gave verdicts on."""

from __future__ import annotations

from datetime import date

from analysis.analyze import sentence_encoder
from analysis.pushback import shipped_model
from analysis.team_pushback import refit
from callqa.errors import InputError
from pipeline.context import Context
from scripts_lib.schema import ScriptPack
from storage.models import TeamModel
from storage.team_models import reviewed_calls


def refit_objections(ctx: Context, pack: ScriptPack, since: date | None = None) -> str:
    """Refit the pushback model of ``pack``'s team from its reviewed calls and keep it: the
    pack's calls are analysed with it from now on (rescore to apply it to the stored ones).
    Returns what it was fitted on."""
    with ctx.sessions() as db:
        calls = reviewed_calls(db, pack.id, since)
    encoder, reason = sentence_encoder(pack.language)
    if encoder is None:
        raise InputError(f"script {pack.id}: {reason}")
    model, message = refit(encoder, pack, calls, shipped_model())
    if model is None:
        raise InputError(message)
    with ctx.sessions.begin() as db:
        db.add(TeamModel(pack_id=pack.id, data=model.dump(), trained_on=model.trained_on))
    return message
