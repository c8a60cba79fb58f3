"""Objections on products the pushback model never saw: the development set's, per input.

    python bench/objections.py                     # text; stereo and mono of each rendering; the learning curve
    python bench/objections.py --inputs text       # the reference text only
    python bench/objections.py --write             # fit on the corpus: analysis/pushback_weights.npz

The pushback model is fitted on ``analysis/corpus/`` alone (k = 0), which holds neither
product's industry; the weights that combine checkpoint matching are fitted on the *other*
product, as in ``bench/meaning.py``. Per product and input it prints objection-type F1,
pushback precision and recall (the objections counted against the client turns that push back,
``bench/devset_pushback.yaml``, by time: a counted objection is right when it overlaps such a
turn, such a turn is found when a counted objection overlaps it), handled accuracy (of the
types both found and labelled), checkpoint F1 and the won-above-lost AUC.

The learning curve: for each product, the model fitted on the corpus plus k reviewed calls of
that product (its pushback sentences as a reviewer pins them, the others as none; three draws
of the k calls), scored on its other calls' reference text.
"""

from __future__ import annotations

import argparse
import dataclasses
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
from analysis.weights import Family, Model
from callqa.settings import Settings
from transcribe.transcript import Transcript

WEIGHTS = ROOT / "analysis" / "pushback_weights.npz"
TURNS = ROOT / "bench" / "devset_pushback.yaml"
DRAWS = 3


def pushback_turns(devset: Devset, name: str) -> list[tuple[float, float]]:
    """The times of the client turns of call ``name`` (``folder/ID``) that push back."""
    marked = yaml.safe_load(TURNS.read_text())[name.split("/")[1]] or {}
    turns = __import__("json").loads((devset.root / f"{name}.json").read_text())["turns"]
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


def reviewed(devset: Devset, product: str, names: Sequence[str], model: PushbackModel) -> list:
    """The sentences of reviewed calls as a team's examples: each pushback turn's surest
    sentence (where a reviewer would pin it) with its pack type, the other client sentences none."""
    from analysis.analyze import compile_pack, sentence_vectors
    from analysis.evaluate import reference_transcript
    from analysis.language import pipeline
    from analysis.objection_types import pack_types
    from analysis.pushback import NONE, Example, Said, cues, design, said_in_call
    from analysis.units import units

    pack, encoder = devset.pack(product), bundled_encoder()
    near = dict(zip([o.id for o in pack.objections], pack_types(model, compile_pack(pack, encoder).objections).nearest))
    examples = []
    for name in names:
        transcript = reference_transcript(devset.root / f"{name}.json", pack.language)
        found = units(transcript, pipeline(pack.language))
        said = said_in_call(found, pack.language)
        marked = {int(k): v for k, v in (yaml.safe_load(TURNS.read_text())[name.split("/")[1]] or {}).items()}
        sentences, turns = sentence_vectors(encoder, transcript, found)
        clients = [i for i, u in enumerate(found) if u.speaker == "client"]
        befores = np.array([turns[found[i].turn - 1] if said[i].before else np.zeros(sentences.shape[1]) for i in clients])
        chosen = [said[i] for i in clients]
        p = model.pushback(design(sentences[clients], befores, cues(chosen, sentences[clients], befores)))
        pinned = {}
        for row, i in enumerate(clients):
            t = found[i].turn
            if t in marked and (t not in pinned or p[row] > p[pinned[t]]):
                pinned[t] = row
        for row, i in enumerate(clients):
            t = found[i].turn
            label = NONE
            if t in marked:
                if pinned[t] != row:
                    continue  # the turn's other sentences: neither pinned nor cleared
                label = near.get(marked[t]) or "other"
            examples.append(Example(Said(found[i].text, said[i].before, pack.language), label, product, name))
    return examples


def learning_curve(
    devset: Devset, product: str, models: dict[Family, Model], corpus: Sequence, start: PushbackModel
) -> str:
    calls = list(devset.calls(product, "text", ("espeak-ng",)))
    figures = []
    for k in (0, 3, 6):
        f1s = []
        for draw in range(DRAWS if k else 1):
            picked = set(random.Random(draw).sample([n for n, _, _ in calls], k))
            model = fit(bundled_encoder(), corpus, reviewed(devset, product, sorted(picked), start)) if k else start
            rest = [c for c in calls if c[0] not in picked]
            f1s.append(measure(devset, product, rest, models, model)[0]["objection_f1"])
        figures.append(f"k={k}: {np.mean(f1s):.3f}")
    return ", ".join(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=ROOT.parent / "shared" / "data" / "devset")
    parser.add_argument("--inputs", default="text,stereo,mono", help="text, stereo, mono (comma-separated)")
    parser.add_argument("--write", action="store_true", help="fit on the corpus and write the shipped weights")
    parser.add_argument("--no-curve", action="store_true", help="leave out the learning curve")
    parser.add_argument("--verbose", action="store_true", help="every call's errors")
    args = parser.parse_args()
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
            curves[product] = learning_curve(devset, product, models, corpus, pushback)
    for product, curve in curves.items():
        print(f"\nLearning curve, {product} reference text, objection-type F1: {curve}")


if __name__ == "__main__":
    main()
