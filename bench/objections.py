"""Objections on products the pushback model never saw: the development set's, per input.

    python bench/objections.py                     # text; stereo and mono of each rendering; the learning curve
    python bench/objections.py --inputs text       # the reference text only
    python bench/objections.py --write             # fit on the corpus: analysis/pushback_weights.npz
    python bench/objections.py --corpus-folds ru   # the Russian turns, industries held out

The pushback model is fitted on ``analysis/corpus/`` alone (k = 0), which holds neither
product's industry; the weights that combine checkpoint matching are fitted on the *other*
product, as in ``bench/meaning.py``. Per product and input it prints objection-type F1,
pushback precision and recall (the objections counted against the client turns that push back,
``bench/devset_pushback.yaml``, by time: a counted objection is right when it overlaps such a
turn, such a turn is found when a counted objection overlaps it), handled accuracy (of the
types both found and labelled), checkpoint F1 and the won-above-lost AUC.

The learning curve: for each product, the team's model refitted as ``callqa calibrate
--objections`` does, from k reviewed calls of that product (a reviewer who knows their labels
adds what the machine missed, takes out what it wrongly found, confirms the rest; three draws
of the k calls), scored on its other calls' reference text.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from meaning import RENDERINGS, Devset, fitted

from analysis.analyze import analyze
from analysis.evaluate import Case, evaluate
from analysis.pushback import PushbackModel, fit, read_corpus
from analysis.semantic import bundled_encoder
from analysis.team_pushback import ReviewedCall, refit
from analysis.weights import Family, Model
from callqa.settings import Settings
from transcribe.transcript import Transcript

WEIGHTS = ROOT / "analysis" / "pushback_weights.npz"
TURNS = ROOT / "bench" / "devset_pushback.yaml"
DRAWS = 3


def pushback_turns(devset: Devset, name: str) -> list[tuple[float, float]]:
    """The times of the client turns of call ``name`` (``folder/ID``) that push back."""
    marked = yaml.safe_load(TURNS.read_text())[name.split("/")[1]] or {}
    turns = json.loads((devset.root / f"{name}.json").read_text())["turns"]
    return [(turns[int(i)]["start"], turns[int(i)]["end"]) for i in marked]


@dataclasses.dataclass
class Tally:
    found: int = 0  # counted objections
    right: int = 0  # of them, over a pushback turn
    turns: int = 0  # pushback turns
    caught: int = 0  # of them, under a counted objection

    def add(self, said: Sequence[tuple[float, float]], truth: Sequence[tuple[float, float]]) -> None:
        def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
            return min(a[1], b[1]) - max(a[0], b[0]) > 0

        self.found += len(said)
        self.right += sum(any(overlaps(s, t) for t in truth) for s in said)
        self.turns += len(truth)
        self.caught += sum(any(overlaps(s, t) for s in said) for t in truth)

    def row(self) -> str:
        return f"{self.right / max(1, self.found):.3f} | {self.caught / max(1, self.turns):.3f}"


def measure(
    devset: Devset,
    product: str,
    calls: Sequence[tuple[str, object, Transcript]],
    models: dict[Family, Model],
    pushback: PushbackModel,
) -> tuple[dict, Tally]:
    pack, tally, cases = devset.pack(product), Tally(), []
    for name, labels, transcript in calls:
        report = analyze(transcript, pack, models=models, pushback=pushback)
        cases.append(Case(name, labels, report))  # type: ignore[arg-type]
        tally.add([(o.start, o.end) for o in report.objections], pushback_turns(devset, name))
    return evaluate(cases, [o.id for o in pack.objections]), tally


def reviewed(
    devset: Devset, product: str, calls: Sequence[tuple[str, object, Transcript]], models: dict[Family, Model],
    start: PushbackModel,
) -> list[ReviewedCall]:
    """``calls`` as a reviewer who knows their labels leaves them: each pushback turn the machine
    missed added (at its middle, with its labelled handling), each objection type it found that
    the labels do not have taken out, each one it found rightly confirmed."""
    pack = devset.pack(product)
    found = []
    for name, labels, transcript in calls:
        machine = analyze(transcript, pack, models=models, pushback=start)
        marked = yaml.safe_load(TURNS.read_text())[name.split("/")[1]] or {}
        turns = json.loads((devset.root / f"{name}.json").read_text())["turns"]
        handled = {o.type: o.handled for o in labels.objections}  # type: ignore[attr-defined]
        raised = {o.type for o in machine.objections}
        verdicts = {f"raised:{t}": False for t in raised - set(handled)}
        verdicts |= {f"objection:{t}": handled[t] for t in raised & set(handled)}
        for i, kind in marked.items():
            turn = turns[int(i)]
            if kind not in raised and not any(k.startswith(f"added:{kind}@") for k in verdicts):
                verdicts[f"added:{kind}@{(turn['start'] + turn['end']) / 2:.1f}"] = handled[kind]
        again = analyze(transcript, pack, models=models, pushback=start, overrides=verdicts)
        utterances = [{"speaker": u.speaker, "start": u.start, "end": u.end, "text": u.text} for u in transcript.utterances]
        found.append(ReviewedCall(machine.model_dump(mode="json"), again.model_dump(mode="json"), verdicts, utterances))
    return found


def learning_curve(
    devset: Devset, product: str, models: dict[Family, Model], start: PushbackModel
) -> str:
    calls = list(devset.calls(product, "text", ("espeak-ng",)))
    figures = [f"k=0: {measure(devset, product, calls, models, start)[0]['objection_f1']:.3f}"]
    for k in (3, 6):
        refitted_f1, shipped_f1 = [], []
        for draw in range(DRAWS):
            picked = set(random.Random(draw).sample([n for n, _, _ in calls], k))
            team = reviewed(devset, product, [c for c in calls if c[0] in picked], models, start)
            refitted, _ = refit(bundled_encoder(), devset.pack(product), team, start)
            rest = [c for c in calls if c[0] not in picked]
            refitted_f1.append(measure(devset, product, rest, models, refitted or start)[0]["objection_f1"])
            shipped_f1.append(measure(devset, product, rest, models, start)[0]["objection_f1"])
        figures.append(f"k={k}: {np.mean(refitted_f1):.3f} (the shipped model on the same calls: {np.mean(shipped_f1):.3f})")
    return ", ".join(figures)


def corpus_folds(language: str, folds: int = 4) -> str:
    """The corpus's ``language`` turns, each industry scored by a model fitted without it (the
    other languages kept): pushback AUC, precision and recall, and how often the generic type is right."""
    from analysis.pushback import GENERIC, NONE, cues, design, encode_said

    encoder, corpus = bundled_encoder(), read_corpus()
    sources = sorted({e.source for e in corpus if e.said.language == language})
    scores, truth, right = [], [], []
    for k in range(folds):
        held = set(sources[k::folds])
        model = fit(encoder, [e for e in corpus if e.source not in held])
        test = [e for e in corpus if e.source in held]
        said = [e.said for e in test]
        texts, befores = encode_said(encoder, said)
        scores += list(model.pushback(design(texts, befores, cues(said, texts, befores))))
        truth += [e.label != NONE for e in test]
        right += [GENERIC[int(g.argmax())] == e.label for g, e in zip(model.generic(texts), test) if e.label != NONE]
    s, y = np.array(scores), np.array(truth)
    auc = float((s[y][:, None] > s[~y][None, :]).mean())
    found = s >= 0.5
    return (f"{language}: {len(y)} turns of {len(sources)} industries: pushback AUC {auc:.3f}, precision "
            f"{(found & y).sum() / found.sum():.3f}, recall {(found & y).sum() / y.sum():.3f}; "
            f"generic type right {np.mean(right):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=ROOT.parent / "shared" / "data" / "devset")
    parser.add_argument("--inputs", default="text,stereo,mono", help="text, stereo, mono (comma-separated)")
    parser.add_argument("--write", action="store_true", help="fit on the corpus and write the shipped weights")
    parser.add_argument("--no-curve", action="store_true", help="leave out the learning curve")
    parser.add_argument("--curve-only", action="store_true", help="the learning curve alone")
    parser.add_argument("--corpus-folds", metavar="LANGUAGE", help="only: the corpus's turns in LANGUAGE, "
                        "each industry scored by a model fitted without it")
    parser.add_argument("--verbose", action="store_true", help="every call's errors")
    args = parser.parse_args()
    if args.corpus_folds:
        print(corpus_folds(args.corpus_folds))
        return
    corpus = read_corpus()
    pushback = fit(bundled_encoder(), corpus)
    if args.write:
        pushback.save(WEIGHTS)
        print(f"wrote {WEIGHTS.relative_to(ROOT)} ({pushback.trained_on})")
        return
    devset = Devset(args.devset, dataclasses.replace(Settings.from_env(), mono_voices="two"))
    kinds = args.inputs.split(",")
    print(f"Pushback model: {pushback.trained_on}\n")
    print("| product | input | objection-type F1 | pushback precision | pushback recall | handled accuracy "
          "| checkpoint F1 | won-above-lost AUC |")
    print("|---|---|---|---|---|---|---|---|")
    curves = {}
    for product in devset.products:
        models = fitted(devset, [p for p in devset.products if p != product])
        rows = [("text", "text", tuple(RENDERINGS))]
        rows += [(f"{kind}, {r}", kind, (r,)) for kind in kinds if kind != "text" for r in RENDERINGS]
        for label, kind, renderings in rows:
            if kind not in kinds:
                continue
            if args.curve_only:
                break
            calls = list(devset.calls(product, kind, renderings))
            result, tally = measure(devset, product, calls, models, pushback)
            handled, auc = result["handled_accuracy"], result["separation"]["auc"]
            print(f"| {product} | {label} | {result['objection_f1']:.3f} | {tally.row()} "
                  f"| {'-' if handled is None else f'{handled:.3f}'} | {result['checkpoint_f1']:.3f} "
                  f"| {'-' if auc is None else f'{auc:.3f}'} |", flush=True)
            if args.verbose:
                for call in result["per_call"]:
                    if call["errors"]:
                        print(f"    {call['name']} ({call['outcome']}, {call['score']}): {'; '.join(call['errors'])}")
        if not args.no_curve:
            curves[product] = learning_curve(devset, product, models, pushback)
    for product, curve in curves.items():
        print(f"\nLearning curve, {product} reference text, objection-type F1: {curve}")


if __name__ == "__main__":
    main()
