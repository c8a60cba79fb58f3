"""Redaction: a Transcript and its CallReport with personal data replaced by typed placeholders
(``[PHONE]``, ``[EMAIL]`` ...), and the times to silence in the audio.

    redaction = redact(transcript, keep=("Daniel",))
    redaction.transcript        # what may be stored and shown
    redaction.spans()           # (start, end) seconds to silence, padded and merged
    redact_report(report_json, redaction)

Analysis runs on the transcript as heard, before redaction, so a call scores the same with
redaction on or off. The manager's own name (given in the greeting, or passed in ``keep``) is
not personal data of the client and stays.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from analysis import pii
from analysis.numbers import leading_number
from transcribe.transcript import Role, Transcript, Utterance, Word

_NUMBERS = ("PHONE", "CARD", "ACCOUNT")


@dataclass(frozen=True)
class Finding:
    kind: str  # PHONE, CARD, ACCOUNT, EMAIL, ADDRESS or NAME
    speaker: Role
    start: float  # seconds in the recording
    end: float
    text: str  # as transcribed: never stored when redaction is on

    @property
    def placeholder(self) -> str:
        return pii.placeholder(self.kind)


@dataclass(frozen=True)
class Redaction:
    transcript: Transcript
    findings: tuple[Finding, ...]

    def spans(self, pad: float = 0.25) -> list[tuple[float, float]]:
        """The stretches of audio to silence: each finding's words, ``pad`` seconds either side
        (word times from Whisper are approximate), overlapping ones merged."""
        merged: list[tuple[float, float]] = []
        for f in sorted(self.findings, key=lambda f: f.start):
            start, end = max(0.0, f.start - pad), f.end + pad
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.findings))

    def found(self) -> list[dict[str, Any]]:
        """What was found where, without the values: what may be stored and shown."""
        return [{"kind": f.kind, "speaker": f.speaker, "start": f.start, "end": f.end}
                for f in self.findings]  # fmt: skip


def redact(transcript: Transcript, keep: Collection[str] = ()) -> Redaction:
    """Find the personal data in every utterance and replace it, in the text and in the words."""
    keep = {*keep, *(n for u in transcript.utterances if u.speaker == "manager"
                     for n in pii.self_names(u.text))}  # fmt: skip
    utterances: list[Utterance] = []
    findings: list[Finding] = []
    for i, utterance in enumerate(transcript.utterances):
        spans = pii.find(utterance.text, keep, before=transcript.utterances[i - 1].text if i else "")
        carried = leading_number(utterance.text)
        last = findings[-1] if findings else None
        if carried and last and last.kind in _NUMBERS and utterance.start - last.end < 1.5 and (
            not spans or spans[0].start >= carried
        ):
            spans.insert(0, pii.Span(last.kind, 0, carried, utterance.text[:carried]))
        redacted, found = _redact_utterance(utterance, spans)
        utterances.append(redacted)
        findings.extend(found)
    return Redaction(dataclasses.replace(transcript, utterances=tuple(utterances)), tuple(findings))


def _redact_utterance(u: Utterance, spans: list[pii.Span]) -> tuple[Utterance, list[Finding]]:
    if not spans:
        return u, []
    offsets = _word_offsets(u)
    words: list[Word] = []
    findings = []
    for span in spans:
        covered = [w for w, (a, b) in zip(u.words, offsets) if a < span.end and b > span.start]
        if covered:
            start, end = covered[0].start, covered[-1].end
        else:  # no word times: where the text puts it
            share = (u.end - u.start) / max(1, len(u.text))
            start, end = u.start + share * span.start, u.start + share * span.end
        findings.append(Finding(span.kind, u.speaker, round(start, 3), round(end, 3), span.text))
    for word, (a, b) in zip(u.words, offsets):
        hit = next((s for s in spans if a < s.end and b > s.start), None)
        if hit is None:
            words.append(word)
        elif not words or words[-1].word != pii.placeholder(hit.kind) or words[-1].end < word.start - 1.0:
            words.append(Word(pii.placeholder(hit.kind), word.start, word.end, 1.0))
        else:
            words[-1] = dataclasses.replace(words[-1], end=word.end)
    text = u.text
    for span in reversed(spans):
        text = text[: span.start] + pii.placeholder(span.kind) + text[span.end :]
    return dataclasses.replace(u, text=text, words=tuple(words)), findings


def _word_offsets(u: Utterance) -> list[tuple[int, int]]:
    """Where each word lies in the utterance's text (the text is its words, joined)."""
    offsets, cursor = [], 0
    for word in u.words:
        token = word.word.strip()
        at = u.text.find(token, cursor) if token else -1
        if at < 0:
            offsets.append((cursor, cursor))
            continue
        offsets.append((at, at + len(token)))
        cursor = at + len(token)
    return offsets


def redact_report(report: dict[str, Any], redaction: Redaction) -> dict[str, Any]:
    """The report (as JSON) with every quote of personal data replaced: the quoted sentences, and
    any message that repeats them."""
    if not redaction.findings:
        return report
    findings = redaction.findings
    return _rewrite(report, lambda text, start, end: _scrub_quote(text, start, end, findings),
                    {f.text: f.placeholder for f in findings})  # fmt: skip


def strip_quotes(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what the call said (once its transcript has expired): verdicts, times
    and scores stay; quotes become "…"."""
    return _rewrite(report, lambda *_: "…", {})


def _rewrite(
    report: dict[str, Any], quote: Callable[[str, float, float], str], also: dict[str, str]
) -> dict[str, Any]:
    """Each quote (a dict with text, start and end) rewritten by ``quote``; then, in every string,
    the old quotes and the keys of ``also`` replaced likewise."""
    replaced: dict[str, str] = {}

    def quotes(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: quotes(v) for k, v in node.items()}
            if isinstance(node.get("text"), str) and "start" in node and "end" in node:
                new = quote(node["text"], node["start"], node["end"])
                if new != node["text"]:
                    replaced[node["text"]] = new
                    node["text"] = new
            return node
        if isinstance(node, list):
            return [quotes(v) for v in node]
        return node

    def strings(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strings(v) for k, v in node.items()}
        if isinstance(node, list):
            return [strings(v) for v in node]
        if isinstance(node, str):
            for old, new in sorted((replaced | also).items(), key=lambda kv: -len(kv[0])):
                if old:
                    node = node.replace(old, new)
        return node

    return strings(quotes(report))  # type: ignore[no-any-return]


def _scrub_quote(text: str, start: float, end: float, findings: Iterable[Finding]) -> str:
    """A quote with the findings it overlaps replaced: whole, or the part at its edge when the quote
    is a sentence that ends or begins inside a finding."""
    for f in findings:
        if f.end < start or f.start > end:
            continue
        if f.text in text:
            text = text.replace(f.text, f.placeholder)
            continue
        tokens = re.findall(r"\w+", f.text)
        for n in range(len(tokens) - 1, 0, -1):
            head = r"\W*".join(map(re.escape, tokens[:n]))
            tail = r"\W*".join(map(re.escape, tokens[-n:]))
            new = re.sub(rf"\b{head}\W*$", f.placeholder, text)
            new = re.sub(rf"^\W*{tail}\b", f.placeholder, new)
            if new != text:
                text = new
                break
    return text


def leaks(data: Any, findings: Iterable[Finding]) -> list[str]:
    """The findings' texts that still appear anywhere in ``data`` (JSON-able): none, once redacted."""
    dumped = json.dumps(data, ensure_ascii=False)
    return [f.text for f in findings if f.text in dumped]
