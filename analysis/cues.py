"""Cues of the dialogue that say more than wording: a day or time named, a yes, a no.

A next step is a day or time proposed and agreed; an objection is the client
pushing back. These cues are the same in every product's calls, so they are
written once per language here rather than in each pack. They work on
normalised words (lower case, contractions spelt out), as ASR writes them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from analysis.units import Unit

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|half|quarter|noon|midday"
)
_WHEN = {
    "en": re.compile(
        r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|tomorrow|tonight"
        r"|next week|this week|o clock|oclock|noon|midday|(?<!good )(morning|afternoon|evening)"
        r"|\d{1,2}( \d\d)? ?(am|pm|a m|p m)"
        rf"|(at|by|around|say|from) (\d{{1,2}}|{_NUMBER_WORDS})\b"
        r"|(first|second|third|\d{1,2}(st|nd|rd|th)) of"
        r"|january|february|march|april|june|july|august|september|october|november|december)\b"
    ),
    "ru": re.compile(
        r"(понедельник|вторник|сред[ау]|четверг|пятниц|суббот|воскресень|выходны|завтра"
        r"|послезавтра|на неделе|на следующей неделе|(?<!добрый )(?<!доброе )(утр|вечер|днём|днем)|в обед"
        r"|час(а|ов)?\b|\bв \d{1,2}\b|\d{1,2} \d\d|январ|феврал|март|апрел|мая|май|июн|июл"
        r"|август|сентябр|октябр|ноябр|декабр)"
    ),
}
# A time far enough off that naming it puts the talk off rather than booking a step ("ring me
# in January", "maybe after Christmas", "в следующем году").
_LATER = {
    "en": re.compile(
        r"\b(january|february|march|april|june|july|august|september|october|november|december"
        r"|next (year|month|quarter|season|spring|summer|autumn|fall|winter)|new year|later (in the|this) year"
        r"|(in|after) (the )?(spring|summer|autumn|fall|winter|holidays|christmas|easter)"
        r"|in (a|one|two|three|four|six|a few|a couple of|couple of) (months|years|month|year)"
        r"|end of the (month|quarter|year))\b"
    ),
    "ru": re.compile(
        r"(январ|феврал|март|апрел|мая|май|июн|июл|август|сентябр|октябр|ноябр|декабр"
        r"|в следующем (году|месяце|квартале)|после нового года|через (месяц|пару месяцев|полгода|год"
        r"|несколько месяцев|\w+ месяц)|весной|летом|осенью|зимой|в конце (месяца|года|квартала))"
    ),
}
# A day or an hour to meet at: with one, a month named is a date ("Monday the 5th of January at
# ten"), not the talk put off.
_SLOT = {
    "en": re.compile(
        r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|o clock|oclock"
        rf"|\d{{1,2}}( \d\d)? ?(am|pm|a m|p m)|(at|say) (\d{{1,2}}|{_NUMBER_WORDS})"
        r"|(first|second|third|\d{1,2}(st|nd|rd|th)) of)\b"
    ),
    "ru": re.compile(
        r"(понедельник|вторник|сред[ау]|четверг|пятниц|суббот|воскресень|завтра|\bв \d{1,2}\b|\d{1,2} \d\d)"
    ),
}
_YES = {
    "en": re.compile(
        r"^(yes|yeah|yep|yup|sure|okay|ok|fine|alright|all right|great|perfect|lovely|brilliant"
        r"|sounds good|sounds great|that works|that would work|works for me|go on then|deal"
        r"|let us do it|why not|of course|absolutely|definitely)\b"
        r"|\b(is|are|sounds|would be) (fine|good|great|perfect|grand|ideal)\b"
        r"|\b(that|it) works\b|\bworks for (me|us)\b|\bsuits (me|us)\b|\bcould live with\b"
        r"|\b(may|might|could|would|should|will) work\b"
    ),
    "ru": re.compile(
        r"^(да|давайте|хорошо|ладно|отлично|конечно|согласен|согласна|можно|идёт|идет|годится"
        r"|окей|ок)\b|\b(подходит|устраивает|договорились)\b"
    ),
}
_NO = {
    "en": re.compile(
        r"\b(no|not|never|nope|can not|cannot|do not|does not|will not|would not|too|but"
        r"|already|afraid|worried|rather)\b"
    ),
    "ru": re.compile(r"\b(нет|не|ни|никогда|уже|дорого|но|боюсь|слишком|против)\b"),
}


_CLOSING = {
    "en": re.compile(
        r"\b(bye|goodbye|thanks|thank you|cheers|ta|take care|have a good (one|day)"
        r"|(speak|talk) (soon|to you (then|soon|on \w+))|see you|all the best"
        r"|(have|has|got) to (go|run|dash)|gotta go|must go)\b"
    ),
    "ru": re.compile(
        r"(до свидания|спасибо|всего доброго|всего хорошего|пока|до связи|мне пора|надо бежать"
        r"|(мне )?нужно идти)"
    ),
}


def _says(patterns: dict[str, re.Pattern[str]], words: str, language: str) -> bool:
    pattern = patterns.get(language)
    return bool(pattern and pattern.search(words))


def names_time(words: str, language: str) -> bool:
    """Does the text name a day, a date or a time of day ("Tuesday at eight", "в четверг")?"""
    return _says(_WHEN, words, language)


def agrees(words: str, language: str) -> bool:
    """Does the text say yes ("yeah, okay", "Tuesday at eight is fine", "that works")?"""
    return _says(_YES, words, language)


def closes(words: str, language: str) -> bool:
    """Is the text a goodbye or a thanks ("thanks, bye", "cheers")?"""
    return _says(_CLOSING, words, language)


def pushes_back(words: str, language: str) -> bool:
    """Does the text hold a negation or a "but": the shape of a refusal or a worry?"""
    return _says(_NO, words, language)


def takes_up(units: Sequence[Unit], i: int, language: str) -> bool:
    """Does sentence ``i`` take up a step: name a day or time itself ("Thursday at two."), or say
    yes to the other side's last turn that named one ("Can we meet Tuesday at ten?" "Sure.")?
    Naming a time months off and no day or hour ("Ring me in January.") puts the talk off instead."""
    said = " ".join(units[i].words)
    if _says(_LATER, said, language) and not _says(_SLOT, said, language):
        return False  # a time months off is the talk put off, not a step taken
    if names_time(said, language):
        return True
    before = [u for u in units[:i] if u.speaker != units[i].speaker and u.turn < units[i].turn]
    offer = [" ".join(u.words) for u in before if u.turn == before[-1].turn]
    return agrees(said, language) and any(names_time(w, language) for w in offer)


# A sentence this short ("Okay.", "Yes,", "Oh, sorry.") is near every short example in meaning;
# it carries an item only in words the pack or the library knows.
SHORT_WORDS = 3


def vague(units: Sequence[Unit], i: int, family: str, language: str) -> bool:
    """Is a match by meaning alone no evidence here: a too-short sentence; for an objection, a
    goodbye, or a question or an answer that takes a step (a day named, or a yes to the
    manager's day) without a "but" or a "not"?"""
    unit = units[i]
    if len(unit.words) < SHORT_WORDS:
        return True
    if family != "objection":
        return False
    said = " ".join(unit.words)
    before = next((u for u in reversed(units[:i]) if u.speaker != unit.speaker), None)
    answering = before is not None and before.turn == unit.turn - 1
    takes_step = answering and takes_up(units, i, language)
    asks = unit.is_question  # "How much is it?", "What would the next step be?"
    return closes(said, language) or ((takes_step or asks) and not pushes_back(said, language))
