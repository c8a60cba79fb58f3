"""Personal data in a line of transcript text: phone, card and account numbers, e-mail addresses,
street addresses and person names, in English and Russian, as Whisper writes them.

Numbers are found by ``analysis.numbers``, as digits or as words, however recognition broke
them up.
Names come from cues ("my name is", "меня зовут", "Mr") and from first-name lists (English,
below; Russian, pymorphy3's Name tag), but only capitalised and not at the start of a sentence
unless a cue stands before them. ``keep`` names are never found: the manager's own name stays in
the greeting.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from importlib.resources import files

import pymorphy3

from analysis.numbers import NUMBER_WORD, numbers

KINDS = ("PHONE", "CARD", "ACCOUNT", "EMAIL", "ADDRESS", "NAME")


@dataclass(frozen=True)
class Span:
    kind: str  # one of KINDS
    start: int  # character offsets in the text
    end: int
    text: str


def placeholder(kind: str) -> str:
    """What stands for a redacted value of ``kind``: ``[PHONE]``."""
    return f"[{kind}]"


def find(text: str, keep: Collection[str] = (), before: str = "") -> list[Span]:
    """The personal data in ``text``, in order, not overlapping. ``before``: what was said just
    before (a question such as "and your phone number?" tells what a broken-up number is)."""
    found = [*(Span(kind, a, b, text[a:b]) for kind, a, b in numbers(text, before)), *_emails(text, before),
             *_addresses(text), *_names(text, keep)]
    found.sort(key=lambda s: (s.start, -(s.end - s.start)))
    result: list[Span] = []
    for span in found:
        if result and span.start < result[-1].end:  # one span, of the longer one's kind
            last = result.pop()
            kind = max(last, span, key=lambda s: s.end - s.start).kind
            end = max(last.end, span.end)
            span = Span(kind, last.start, end, text[last.start : end])
        result.append(span)
    return result


_W = r"[^\W_]+"
_SPELLED = r"(?:\b[^\W_]\b(?:[\s,-]+\b[^\W_]\b)+)"
_PART = rf"(?:{_SPELLED}|{_W})"
_DOT = r"(?:\s*(?:\bdot\b|\bточка\b)\s*|\s*\.(?=\w))"  # a full stop and a space end a sentence
_JOIN = rf"(?:{_DOT}|\s*(?:\bunderscore\b|\bdash\b|\bhyphen\b|\bнижнее подчеркивание\b|[_-])\s*)"
_TLD = r"(?:com|net|org|ru|io|co|uk|de|info|biz|edu|gov|us|me|su|by|kz|ua|рф|ру|ком|нет|орг)\b"
_EMAIL = re.compile(
    rf"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|{_PART}(?:{_JOIN}{_PART})*\s*(?:\bat\b|\bсобака\b|@)\s*"
    rf"{_PART}(?:{_DOT}{_PART})*?{_DOT}{_TLD}",
    re.IGNORECASE,
)


# What recognition leaves of a spoken address: "It's K. Not Walker, I'd like to write mail .com"
# for "k dot walker at writemail dot com". A domain's ending, with a word about mail near it or in
# the question before, takes up to eight words before it, back to the word that named the address.
_TAIL = re.compile(rf"{_DOT}(?:com|net|org|io|ru|рф|ру|ком)\b", re.IGNORECASE)
_MAIL = re.compile(r"\b(?:e-?mail|mail|g-?mail|hotmail|yahoo|outlook|icloud|address|почт|адрес|яндекс)", re.IGNORECASE)
_AT = re.compile(r"\b(?:at|собака)\b|@", re.IGNORECASE)
_LEAD = re.compile(r"(?:is|it's|its|that's|e-?mail|address|это|почта|адрес)\W*", re.IGNORECASE)


def _emails(text: str, before: str) -> Iterator[Span]:
    ends = set()
    for match in _EMAIL.finditer(text):
        ends.add(match.end())
        yield Span("EMAIL", match.start(), match.end(), match.group())
    for tail in (t for t in _TAIL.finditer(text) if t.end() not in ends):
        words = list(re.finditer(r"\S+", text[: tail.start()]))[-8:]
        leads = [i for i, w in enumerate(words) if _LEAD.fullmatch(w.group())]
        words = words[leads[-1] + 1 :] if leads else words
        said = text[words[0].start() : tail.end()] if words else ""
        if said and (_MAIL.search(f"{before} {said}") or _AT.search(said)):
            yield Span("EMAIL", words[0].start(), tail.end(), said)


_NUM = rf"(?:\d+[a-zа-я]?|(?:{NUMBER_WORD})(?:[\s-]+(?:{NUMBER_WORD}))*)"
_STREET = (
    r"Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Lane|Boulevard|Blvd\.?|Drive|Way|Court|Place|"
    r"Square|Terrace|Crescent|Close|Highway"
)
_UNIT = rf"(?:,?\s*(?:apartment|apt\.?|flat|suite|unit)\s+{_NUM})?"
_ADDRESS = re.compile(
    rf"\b{_NUM}\s+(?:[A-Z][\w'-]*\s+){{1,3}}(?:{_STREET})\b{_UNIT}"
    rf"|\b(?:улиц[аеуы]|ул\.|проспект[аеу]?|переул(?:ок|ке|ка)|бульвар[аеу]?|шоссе|площад[ьи])"
    rf"\s+[\w-]+(?:\s+[А-ЯЁ][\w-]*)?(?:,?\s*(?:дом|д\.)\s*{_NUM})?(?:,?\s*(?:корпус|строение)\s*{_NUM})?"
    rf"(?:,?\s*(?:квартир[аеуы]|кв\.)\s*{_NUM})?"
    # A house number and an apartment, whatever the street came out as ("12 -par -carver, apartment 4").
    rf"|\b{_NUM}(?:[\s-]+[\w']+){{1,4}}?,?[\s-]+(?:apartment|apt\.?|suite)[\s-]+{_NUM}"
    rf"|\b(?:дом|д\.)\s*{_NUM},?\s*(?:квартир[аеуы]|кв\.)\s*{_NUM}",
    re.IGNORECASE,
)


def _addresses(text: str) -> Iterator[Span]:
    for match in _ADDRESS.finditer(text):
        if match.group()[0].isdigit() or not match.group()[0].isupper() or " " in match.group():
            yield Span("ADDRESS", match.start(), match.end(), match.group().rstrip(",. "))


_CAP = r"[A-ZА-ЯЁ][\w'-]+"
_CUES = re.compile(
    rf"\b(?:my name is|my name's|name is|surname is|surname|last name is|last name|family name is|фамилия|call me|this is|i'm|i am|it's|speaking with|speak to|"
    rf"mr\.?|mrs\.?|ms\.?|miss|dr\.?|меня зовут|зовут|это|с вами|говорит|господин|госпожа)\s+"
    rf"({_CAP}(?:\s+{_CAP})?)",
    re.IGNORECASE,
)
_STRONG = re.compile(
    r"(?:name|name is|surname|call me|mr|mrs|ms|miss|dr|зовут|фамилия|господин|госпожа)\W*$", re.IGNORECASE
)


def _names(text: str, keep: Collection[str]) -> Iterator[Span]:
    kept = {w.lower() for name in keep for w in name.split()}
    for match in _CUES.finditer(text):
        words = match.group(1).split()
        if not all(w[0].isupper() for w in words):  # the cue is any case, the name capitalised
            words = words[: next(i for i, w in enumerate(words) if not w[0].isupper())]
        if not words:
            continue
        strong = bool(_STRONG.search(text[match.start() : match.start(1)]))
        if not (strong or _is_first_name(words[0])):
            continue
        if len(words) == 2 and not (_is_first_name(words[1]) or _is_surname(words[1]) or strong):
            words = words[:1]
        if not kept.intersection(w.lower() for w in words):
            start = match.start(1)
            yield _name_span(text, start, " ".join(words))
    for match in re.finditer(rf"(?<![.!?]\s)(?<!^)\b{_CAP}(?:\s+{_CAP})?", text):
        first, *rest = match.group().split()
        if first.lower() in kept or not _is_first_name(first):
            continue
        name = first + (f" {rest[0]}" if rest and _is_surname(rest[0]) else "")
        yield _name_span(text, match.start(), name)


def _name_span(text: str, start: int, name: str) -> Span:
    return Span("NAME", start, start + len(name), name)


def _is_first_name(word: str) -> bool:
    if not word[:1].isupper():
        return False
    if word.isascii():
        return word.lower().strip("'") in _english_names()
    return any("Name" in p.tag and p.score >= 0.3 for p in _morph().parse(word))


def _is_surname(word: str) -> bool:
    if not word[:1].isupper():
        return False
    if word.isascii():
        return word.lower() not in _english_names() and word.lower() not in _COMMON
    return any("Surn" in p.tag or "Patr" in p.tag for p in _morph().parse(word))


@functools.cache
def _morph():  # type: ignore[no-untyped-def]
    """The Russian dictionaries, loaded on the first Russian word."""
    return pymorphy3.MorphAnalyzer(lang="ru")


@functools.cache
def _english_names() -> frozenset[str]:
    text = files("analysis").joinpath("first_names_en.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and line[0] != "#")


# Capitalised words after a first name that are not surnames (the name's sentence goes on).
_COMMON = frozenset(
    ["i", "the", "a", "and", "or", "but", "from", "at", "in", "on", "of", "to", "for", "with", "speaking", "here", "calling", "thanks", "thank", "please", "yes", "no", "ok", "okay", "hello", "hi", "bye", "goodbye"]
)


_SELF = re.compile(
    rf"\b(?:my name is|my name's|this is|i'm|i am|меня зовут|это|с вами|говорит)\s+({_CAP}(?:\s+{_CAP})?)",
    re.IGNORECASE,
)


def self_names(text: str) -> set[str]:
    """The names a speaker gives themself in ``text`` ("my name is Daniel", "с вами Анна")."""
    return {match.group(1) for match in _SELF.finditer(text)}
