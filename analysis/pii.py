"""Personal data in a line of transcript text: phone, card and account numbers, e-mail addresses,
street addresses and person names, in English and Russian, as Whisper writes them.

Numbers are found whether they were written as digits ("555-214-8936") or as words ("five five
five, two one four ..."; "восемь девятьсот шестнадцать ..."): a run of number words and digits
that holds seven digits or more is personal, unless a currency or "percent" says it is an amount.
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

KINDS = ("PHONE", "CARD", "ACCOUNT", "EMAIL", "ADDRESS", "NAME")


@dataclass(frozen=True)
class Span:
    kind: str  # one of KINDS
    start: int  # character offsets in the text
    end: int
    text: str


# Digits each number word stands for, and how it joins the one before ("fifty five" is 55).
_UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ноль": 0, "нуль": 0, "один": 1, "одна": 1, "два": 2,
    "две": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
}  # fmt: skip
_TEENS = frozenset(
    ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать", "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать"]
)
_TENS = frozenset(
    ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто"]
)
_HUNDREDS = frozenset(
    ["сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот"]
)
_REPEAT = {"double": 2, "triple": 3}
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TEENS, *_TENS, *_HUNDREDS, "hundred"], key=len, reverse=True))
_SEPARATORS = frozenset(",-.()/+")
_AMOUNT = re.compile(
    r"^\W*(?:dollars?|bucks|cents?|euros?|pounds?|rubles?|roubles?|percent|per\s+cent|%|"
    r"руб\w*|доллар\w*|евро|процент\w*|копе\w*|тысяч\w*|thousand|million|миллион\w*)",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"[$€£₽]\s*$")
_CONTEXT = {
    "CARD": re.compile(r"\b(?:card|карт\w*|visa|mastercard|мир)\b", re.IGNORECASE),
    "ACCOUNT": re.compile(r"\b(?:account|iban|сч[её]т\w*|реквизит\w*|инн|снилс)\b", re.IGNORECASE),
}

_TOKEN = re.compile(r"\d+|[^\W\d_]+|\S")
# A number dictated after one of these is a phone number, however recognition broke it up.
_PHONE_CUE = re.compile(r"\b(?:phone|mobile|cell|number|call me|reach me|телефон\w*|мобильн\w*|номер\w*|звоните)\b",
                        re.IGNORECASE)
NOISE_WORDS = 3  # short words of recognition noise that may break a dictated number


def placeholder(kind: str) -> str:
    """What stands for a redacted value of ``kind``: ``[PHONE]``."""
    return f"[{kind}]"


def find(text: str, keep: Collection[str] = (), before: str = "") -> list[Span]:
    """The personal data in ``text``, in order, not overlapping. ``before``: what was said just
    before (a question such as "and your phone number?" tells what a broken-up number is)."""
    found = [*_emails(text), *_numbers(text, before), *_addresses(text), *_names(text, keep)]
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


def leading_number(text: str) -> int:
    """Where the number that opens ``text`` ends ("-1 -1 -1. Thank you": 9); 0 for none. Whisper
    sometimes carries the end of a dictated number over into the next line."""
    end = 0
    for token in _TOKEN.finditer(text):
        word = token.group().lower()
        if _digits(word, 0) is not None:
            end = token.end()
        elif word not in _SEPARATORS:
            break
    return end


def _numbers(text: str, before: str = "") -> Iterator[Span]:
    """Runs of number words and digits that hold seven digits or more. Runs that recognition
    broke apart with a word or two of noise ("770, the I -881234") are joined first."""
    joined: list[tuple[int, int, int]] = []
    for start, end, digits in _runs(text):
        if joined and _broken_apart(text, joined[-1], (start, end, digits), before):
            start, digits = joined[-1][0], joined.pop()[2] + digits
        joined.append((start, end, digits))
    for start, end, digits in joined:
        if digits >= 7:
            if start and text[start - 1] == "+":
                start -= 1
            if not (_CURRENCY_BEFORE.search(text[:start]) or _AMOUNT.match(text[end:])):
                yield Span(_number_kind(text, start, digits), start, end, text[start:end])


def _runs(text: str) -> Iterator[tuple[int, int, int]]:
    """(start, end, digits) of each run of number words and digits, with what separates them."""
    run: list[re.Match[str]] = []
    digits, open_slots = 0, 0
    tokens = list(_TOKEN.finditer(text)) + [None]
    repeat = 1
    for token in tokens:
        word = token.group().lower() if token else ""
        added = _digits(word, open_slots) if token else None
        if added is not None:
            count, open_slots = added
            digits += count * repeat if count == 1 else count
            repeat = 1
            run.append(token)  # type: ignore[arg-type]
            continue
        if token is not None and word in _REPEAT and run is not None:
            repeat = _REPEAT[word]
            run.append(token)
            continue
        if token is not None and run and word in _SEPARATORS:
            run.append(token)
            continue
        while run and run[-1].group() in _SEPARATORS | set(_REPEAT):
            run.pop()
        if run and digits:
            yield run[0].start(), run[-1].end(), digits
        run, digits, open_slots, repeat = [], 0, 0, 1


def _broken_apart(
    text: str, first: tuple[int, int, int], second: tuple[int, int, int], before: str = ""
) -> bool:
    """Whether two runs are one number with recognition noise between them: at most
    NOISE_WORDS short words apart, and either a phone cue just before them, or both long enough
    that together they make a number (three digits or more each, six in one of them)."""
    between = [t.group() for t in _TOKEN.finditer(text[first[1] : second[0]]) if t.group() not in _SEPARATORS]
    if len(between) > NOISE_WORDS or any(len(word) > 4 for word in between):
        return False
    if _PHONE_CUE.search(f"{before} {text[: first[0]]}"[-60:]):
        return True
    return min(first[2], second[2]) >= 3 and max(first[2], second[2]) >= 6


def _digits(word: str, open_slots: int) -> tuple[int, int] | None:
    """(digits added, slots left open for the next word) for a number token, else None."""
    if word.isdigit():
        return len(word), 0
    if word in _UNITS:
        return (0, 0) if open_slots >= 1 else (1, 0)
    if word in _TEENS:
        return (0, 0) if open_slots >= 2 else (2, 0)
    if word in _TENS:
        return (0, 1) if open_slots >= 2 else (2, 1)
    if word in _HUNDREDS:
        return 3, 2
    if word == "hundred":
        return 2, 2  # "eight hundred": the unit before it counted one
    return None


def _number_kind(text: str, start: int, digits: int) -> str:
    before = text[max(0, start - 60) : start]
    for kind, cue in _CONTEXT.items():
        if cue.search(before):
            return kind
    if digits <= 12:
        return "PHONE"
    return "CARD" if digits <= 19 else "ACCOUNT"


_W = r"[^\W_]+"
_SPELLED = r"(?:\b[^\W_]\b(?:[\s,-]+\b[^\W_]\b)+)"
_PART = rf"(?:{_SPELLED}|{_W})"
_DOT = r"(?:\s*(?:\bdot\b|\bточка\b|\.)\s*)"
_JOIN = rf"(?:{_DOT}|\s*(?:\bunderscore\b|\bdash\b|\bhyphen\b|\bнижнее подчеркивание\b|[_-])\s*)"
_TLD = r"(?:com|net|org|ru|io|co|uk|de|info|biz|edu|gov|us|me|su|by|kz|ua|рф|ру|ком|нет|орг)\b"
_EMAIL = re.compile(
    rf"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|{_PART}(?:{_JOIN}{_PART})*\s*(?:\bat\b|\bсобака\b|@)\s*"
    rf"{_PART}(?:{_DOT}{_PART})*?{_DOT}{_TLD}",
    re.IGNORECASE,
)


def _emails(text: str) -> Iterator[Span]:
    for match in _EMAIL.finditer(text):
        yield Span("EMAIL", match.start(), match.end(), match.group())


_NUM = rf"(?:\d+[a-zа-я]?|(?:{_NUMBER_WORD})(?:[\s-]+(?:{_NUMBER_WORD}))*)"
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
    rf"\b(?:my name is|my name's|name is|call me|this is|i'm|i am|it's|speaking with|speak to|"
    rf"mr\.?|mrs\.?|ms\.?|miss|dr\.?|меня зовут|зовут|это|с вами|говорит|господин|госпожа)\s+"
    rf"({_CAP}(?:\s+{_CAP})?)",
    re.IGNORECASE,
)
_STRONG = re.compile(r"(?:name|call me|mr|mrs|ms|miss|dr|зовут|господин|госпожа)\W*$", re.IGNORECASE)


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
