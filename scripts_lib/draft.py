"""Drafting a script from the best managers' dialogues.

For each stage of a pack and each objection type, the manager's words that passed the stage, or
that answered the objection before the client moved on, are gathered from every analysed call,
grouped by similarity (TF-IDF over words and character n-grams, agglomerative clustering by
cosine distance), and each group is ranked by how often its calls were won compared with the
team's average for that stage or objection. The best groups become example phrases of a new
version of the pack (with a comment giving their evidence) and a readable Markdown for training.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from scripts_lib.schema import ScriptPack

MIN_CALLS = 2  # a group must come from at least this many calls to be proposed
# Words an answer needs to teach anything: "Bye." or "Okay, yes." passes a stage in every call
# and is no phrase to learn.
MIN_WORDS = 3
DISTANCE = 0.75  # cosine distance under which two answers are one group


@dataclass(frozen=True)
class Analysed:
    """One analysed call: who, how it ended, its score, and its CallReport as JSON."""

    call_id: int
    manager: str | None
    outcome: str | None  # won, lost, or unknown
    score: float
    report: dict[str, Any]


@dataclass(frozen=True)
class Said:
    call_id: int
    manager: str | None
    start: float
    text: str
    won: bool | None


@dataclass
class Group:
    """Similar answers: the representative, who said them where, and how their calls ended."""

    target: str  # checkpoint:ID or objection:TYPE
    representative: str
    members: list[Said] = field(default_factory=list)
    team_rate: float | None = None  # won share of every call with this stage or objection

    @property
    def calls(self) -> int:
        return len({m.call_id for m in self.members})

    @property
    def won_rate(self) -> float | None:
        known = {m.call_id: m.won for m in self.members if m.won is not None}
        return sum(known.values()) / len(known) if known else None

    @property
    def lift(self) -> float:
        """How much more often than the team's average these calls were won."""
        if self.won_rate is None or self.team_rate is None:
            return 0.0
        return self.won_rate - self.team_rate

    def evidence(self) -> str:
        managers = ", ".join(sorted({m.manager for m in self.members if m.manager}))
        rate = f"{self.won_rate:.0%} won" if self.won_rate is not None else "outcome unknown"
        team = f" (team {self.team_rate:.0%})" if self.team_rate is not None else ""
        return f"{self.calls} calls, {rate}{team}; {managers or 'no manager'}"


def best_calls(calls: Sequence[Analysed], share: float = 0.5) -> list[Analysed]:
    """The best ``share`` of calls: won deals first, then by score (groups list their words first)."""
    ranked = sorted(calls, key=lambda c: ({"won": 0, None: 1, "lost": 2}.get(c.outcome, 1), -c.score))
    return ranked[: max(1, round(len(ranked) * share))]


def mine(calls: Sequence[Analysed]) -> dict[str, list[Group]]:
    """Groups of answers per ``checkpoint:ID`` and ``objection:TYPE``, the best first."""
    found: dict[str, list[Said]] = {}
    everyone: dict[str, dict[int, bool | None]] = {}
    for call in calls:
        won = {"won": True, "lost": False}.get(call.outcome or "")
        for target, said in _answers(call, won):
            found.setdefault(target, []).append(said)
        for target in _targets(call.report):
            everyone.setdefault(target, {})[call.call_id] = won
    rank = {c.call_id: i for i, c in enumerate(best_calls(calls, share=1.0))}
    groups = {}
    for target, said_anyhow in found.items():
        answers = [a for a in said_anyhow if _teaches(a.text)]
        if not answers:
            continue
        answers.sort(key=lambda said: rank[said.call_id])  # the best calls' words first
        outcomes = [w for w in everyone[target].values() if w is not None]
        team = sum(outcomes) / len(outcomes) if outcomes else None
        clustered = [g for g in _cluster(target, answers) if g.calls >= MIN_CALLS]
        for group in clustered:
            group.team_rate = team
        if clustered:
            groups[target] = sorted(clustered, key=lambda g: (-g.lift, -g.calls, g.representative))
    return groups


def gaps(calls: Sequence[Analysed], groups: Mapping[str, list[Group]], targets: Iterable[str]) -> dict[str, str]:
    """Why each of ``targets`` (``titles``) has no group to propose: never passed or raised,
    never answered, or answered in too few calls, or too differently, to group."""
    met: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    briefly: Counter[str] = Counter()
    for call in calls:
        met.update(_targets(call.report))
        found = _answers(call, None)
        answered.update({target for target, said in found if _teaches(said.text)})
        briefly.update({target for target, said in found if not _teaches(said.text)})
    reasons = {}
    for target in targets:
        if target in groups:
            continue
        stage = target.startswith("checkpoint:")
        if not met[target]:
            reasons[target] = "no call passed this stage" if stage else "no call raised this objection"
        elif not answered[target] and briefly[target]:
            reasons[target] = (f"{'passed' if stage else 'answered'} in {briefly[target]} call(s), only in words too "
                               f"short to teach (under {MIN_WORDS} words, such as a bare goodbye)")  # fmt: skip
        elif not answered[target]:
            reasons[target] = (f"passed in {met[target]} call(s), none with the words that passed it" if stage else
                               f"raised in {met[target]} call(s), answered in none before the client moved on")  # fmt: skip
        elif answered[target] < MIN_CALLS:
            reasons[target] = f"{'passed' if stage else 'answered'} in one call only: a group needs {MIN_CALLS}"
        else:
            reasons[target] = (f"{'passed' if stage else 'answered'} in {answered[target]} calls, "
                               f"but no {MIN_CALLS} of them in words alike enough to group")  # fmt: skip
    return reasons


def titles(pack: ScriptPack) -> dict[str, str]:
    """The pack's stages and objection types as targets (``checkpoint:ID``, ``objection:TYPE``), with titles."""
    found = {f"checkpoint:{c.id}": c.title for c in pack.checkpoints}
    return found | {f"objection:{o.id}": f"Objection: {o.title}" for o in pack.objections}


def _answers(call: Analysed, won: bool | None) -> list[tuple[str, Said]]:
    """The manager's words that passed each stage, and that answered each objection (handled)."""
    out = []
    for c in call.report["checkpoints"]:
        if c["passed"] and c["evidence"]:
            e = c["evidence"][0]
            out.append((f"checkpoint:{c['id']}", Said(call.call_id, call.manager, e["start"], e["text"], won)))
    for o in call.report["objections"]:
        if o["handled"] and o.get("response"):
            r = o["response"]
            out.append((f"objection:{o['type']}", Said(call.call_id, call.manager, r["start"], r["text"], won)))
    return out


def _targets(report: dict[str, Any]) -> set[str]:
    return {f"checkpoint:{c['id']}" for c in report["checkpoints"] if c["passed"]} | {
        f"objection:{o['type']}" for o in report["objections"]
    }


def _cluster(target: str, answers: list[Said]) -> list[Group]:
    if len(answers) == 1:
        return [Group(target, answers[0].text, list(answers))]
    # lazy: scikit-learn takes about 2 s to import: only when what was said is grouped
    from scripts_lib.clusters import cluster

    labels, vectors = cluster([a.text.lower() for a in answers], DISTANCE)
    groups = []
    for label in sorted(set(labels)):
        members = [i for i, x in enumerate(labels) if x == label]
        centre = vectors[members].mean(axis=0)
        # The member nearest the centre; among equals, the one from the better call (listed first).
        closest = max(members, key=lambda i: (round(float(vectors[i] @ centre), 6), -i))
        groups.append(Group(target, answers[closest].text, [answers[i] for i in members]))
    return groups


def draft_pack(pack: ScriptPack, groups: dict[str, list[Group]], per_target: int = 3, chosen: bool = False) -> str:
    """The pack as a new version's YAML: the best groups (those won more often than the team's
    average, ``per_target`` at most) added as example phrases of their stage, or as proven
    responses of their objection; with ``chosen`` (a trainer picked them), every group given.
    Each new line carries its evidence as a comment."""
    dumped = pack.model_dump(mode="json", exclude_defaults=True)
    data: dict[str, Any] = {"id": pack.id, "version": pack.version + 1} | dumped
    notes: dict[str, str] = {}
    for target, found in groups.items():
        kind, _, key = target.partition(":")
        taken = found if chosen else [g for g in found if g.lift > 0][:per_target]
        items = data["checkpoints"] if kind == "checkpoint" else data.get("objections", [])
        item = next((i for i in items if i["id"] == key), None)
        if item is None or not taken:
            continue
        slot = "phrases" if kind == "checkpoint" else "responses"
        existing = {_key(p) for p in item.get(slot, [])}
        for group in taken:
            if _key(group.representative) not in existing:
                item[slot] = [*item.get(slot, []), group.representative]
                notes[group.representative] = group.evidence()
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    header = f"# Draft of {pack.id} v{pack.version + 1}, mined from this team's calls by `callqa mine`.\n"
    header += "# Each new phrase says where it comes from. Edit, then check it: callqa script check FILE\n"
    return header + _annotate(text, notes)


def _annotate(text: str, notes: dict[str, str]) -> str:
    lines = text.splitlines()
    for phrase, note in notes.items():
        dumped = yaml.safe_dump([phrase], allow_unicode=True, width=10_000).strip()
        for i, line in enumerate(lines):
            if line.strip() == dumped and "  # " not in line:
                lines[i] = f"{line}  # mined: {note}"
                break
    return "\n".join(lines) + "\n"


def markdown(pack: ScriptPack, groups: dict[str, list[Group]], base_url: str = "") -> str:
    """The groups as a readable handout for a training session, with links to the moments."""
    named = titles(pack)
    out = [f"# What works in our calls: {pack.title}", ""]
    for target in [t for t in named if t in groups]:
        out += [f"## {named[target]}", ""]
        for n, group in enumerate(groups[target], 1):
            out.append(f"{n}. \u201c{group.representative}\u201d \u2014 {group.evidence()}")
            for m in group.members[:5]:
                link = f"{base_url}/calls/{m.call_id}#t={m.start:.1f}"
                out.append(f"   - [{m.manager or 'call'} at {int(m.start) // 60:02d}:{int(m.start) % 60:02d}]({link}): {_clean(m.text)}")
        out.append("")
    return "\n".join(out)


def _teaches(text: str) -> bool:
    """Whether an answer says enough to be a phrase worth learning (not a filler or a bare goodbye)."""
    return len(re.findall(r"\w+", text)) >= MIN_WORDS


def _key(phrase: str) -> str:
    """A phrase as compared with the pack's: case and punctuation aside."""
    return " ".join(re.findall(r"\w+", phrase.lower()))


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
