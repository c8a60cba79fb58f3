"""Numbers in transcript text that are personal (phone, card and account numbers), written as
digits ("555-214-8936") or as words the way people dictate them ("five five five, two one
four ..."; "восемь девятьсот шестнадцать ..."): a run of number words and digits that holds
seven digits or more, unless a currency or "percent" says it is an amount. Recognition sometimes
breaks a dictated number up with a word or two of noise ("770, the I -881234"); such pieces are
joined when a word about a phone comes just before, or when they are long enough together."""

from __future__ import annotations

import re
from collections.abc import Iterator

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
NUMBER_WORD = "|".join(sorted([*_UNITS, *_TEENS, *_TENS, *_HUNDREDS, "hundred"], key=len, reverse=True))
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


def numbers(text: str, before: str = "") -> Iterator[tuple[str, int, int]]:
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
                yield _number_kind(text, start, digits), start, end


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
