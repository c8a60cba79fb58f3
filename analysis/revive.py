"""Revivable lost leads: lost calls whose refusal was never worked through.

About a fifth of closed leads come back once someone works through their refusals. The ones
worth a call back are lost calls where the client raised an objection that was left unhandled,
or where the manager gave up at the first "no". Each is ranked by how revivable it looks, with
the reasons, from the call's report alone (plain dicts: the CallReport as JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# What each sign adds to a lead's revivability (0..1), and the reason shown for it.
SIGNS = {
    "unhandled": (0.3, "the objection was left unhandled"),
    "gave_up": (0.3, "the manager gave up at the first no"),
    "single": (0.2, "it was the client's only objection"),
    "engaged": (0.2, "the client talked a good share of the call"),
}
ENGAGED_SHARE = 0.3  # the client's share of the talk that counts as engaged


@dataclass(frozen=True)
class Revival:
    """Why and where a lost call looks revivable."""

    objection: str  # the objection type
    title: str
    moment: float  # seconds into the recording where the client raised it
    said: str  # the client's words
    revivability: float  # 0..1
    reasons: tuple[str, ...]


def revival(report: dict[str, Any]) -> Revival | None:
    """How revivable a lost call looks (``report``: its CallReport as JSON); None when every
    objection was worked through."""
    unworked = [o for o in report["objections"] if not o["handled"]]
    if not unworked:
        return None
    first = unworked[0]
    signs = ["unhandled"]
    response = first.get("response")
    if not first["techniques"] and (response is None or first["outcome"] == "ended"):
        signs.append("gave_up")
    if len({o["type"] for o in report["objections"]}) == 1:
        signs.append("single")
    if 1 - report["metrics"]["manager_talk_share"] >= ENGAGED_SHARE:
        signs.append("engaged")
    return Revival(objection=first["type"], title=first["title"], moment=first["start"], said=first["text"],
                   revivability=round(sum(SIGNS[s][0] for s in signs), 2),
                   reasons=tuple(SIGNS[s][1] for s in signs))  # fmt: skip
