"""Which voice is the manager's: cues from what each side says.

A manager introduces themselves and the company, thanks the client for
calling, asks most of the questions and usually speaks first. Each cue adds to
a speaker's score; the margin between the two scores gives the confidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

_INTRODUCTION = re.compile(
    r"\b(my name is|my name's|this is \w+ (from|at|with)|i'?m calling|calling (from|on behalf)"
    r"|on behalf of|thank(s| you) for calling|how (can|may) i help|speaking\b|our company"
    r"|меня зовут|это \w+ из|звоню|вас беспокоит|компани[яи]|чем (могу|можем) помочь"
    r"|спасибо за звонок)",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    r"\?|^(what|how|when|why|who|which|do|does|did|are|is|would|could|can)\b"
    r"|^(что|как|когда|почему|кто|какой|какие|сколько|скажите|подскажите)\b",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class RoleGuess:
    manager: int  # index of the speaker judged to be the manager
    confidence: float  # 0.5 (a coin toss) .. 1.0


def manager_score(texts: Sequence[str], spoke_first: bool, talk_share: float) -> float:
    """How much a speaker's turns sound like the manager's side of a sales call."""
    joined = "\n".join(texts)
    introductions = len(_INTRODUCTION.findall(joined))
    questions = sum(1 for t in texts if _QUESTION.search(t.strip()))
    return (
        2.0 * min(introductions, 3)
        + 0.5 * min(questions, 8)
        + (1.0 if spoke_first else 0.0)
        + 1.0 * (talk_share - 0.5)
    )


def guess_manager(turns: Sequence[tuple[int, float, str]]) -> RoleGuess:
    """Pick the manager among two speakers from their turns ``(speaker, start, text)``."""
    if not turns:
        return RoleGuess(manager=0, confidence=0.5)
    first = min(turns, key=lambda t: t[1])[0]
    words = [sum(len(t[2].split()) for t in turns if t[0] == s) for s in (0, 1)]
    total = max(1, sum(words))
    scores = [
        manager_score([t[2] for t in turns if t[0] == s], first == s, words[s] / total)
        for s in (0, 1)
    ]
    manager = 0 if scores[0] >= scores[1] else 1
    margin = abs(scores[0] - scores[1])
    return RoleGuess(manager=manager, confidence=round(1 / (1 + math.exp(-margin)), 3))
