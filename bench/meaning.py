"""Matching by meaning, fitted on one product's calls and measured on another's.

    python bench/meaning.py                          # text; stereo and mono of each rendering
    python bench/meaning.py --inputs text            # the reference text only (seconds)
    python bench/meaning.py --write                  # fit on every product: analysis/meaning_weights.json

Reads the development set (``../shared/data/devset``, or ``--devset``): per product a trainer's
pack (``packs/NAME.yaml``) and reviewed calls in ``NAME/`` (espeak-ng voices) and ``NAME_piper/``
(a neural voice). For each product, the weights that combine the ways of matching are fitted on
the *other* products' calls (reference text and stereo transcripts), then that product is
measured with them: nothing is scored with weights fitted on its own calls. Recordings are
transcribed once with the default model and settings (``CALLQA_MODEL`` etc.; mono calls as two
voices, ``CALLQA_MONO_VOICES=two``) and cached in
the cache dir, apart for each ``CT2_FORCE_CPU_ISA`` and by each recording's bytes. Beside the
verdicts' F1, each row gives how well the model ranks the (call, item) pairs, whatever the
cut-off (``ranking``): one call moves that less than it moves F1; and how many verdicts are
marked unsure, how many of the wrong ones are among them, and how many of the others are right
(``unsure``). A rendering folder
that holds another rendering's recordings is named in a warning. ``--write`` fits on every
product and writes the weights callqa ships.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.analyze import analyze, compile_pack, pushback_of, sentence_vectors
from analysis.evaluate import Case, Labels, evaluate, read_labels, reference_transcript
from analysis.fitting import fit
from analysis.language import pipeline
from analysis.meaning import features
from analysis.semantic import bundled_encoder
from analysis.units import units
from analysis.weights import FEATURES, Family, Model, shipped_models
from callqa.settings import Settings
from scripts_lib import load_pack
from scripts_lib.schema import ScriptPack
from transcribe.transcript import Transcript

WEIGHTS = ROOT / "analysis" / "meaning_weights.json"
RENDERINGS = {"espeak-ng": "", "piper": "_piper"}  # the folder suffix of each rendering
FIT_ON = ("text", "stereo")  # what a product's calls contribute to the fit
# The features and L2 penalty of each family's fit. Checkpoints weigh a sentence's meaning
# against the other stages' (``distinct``, ``common_distinct``), not the library's raw
# similarity or the whole turn's, so that the evidence is the sentence that does the job;
# objections are few per product (about 20 calls with one), so their model is smaller.
FIT = {
    "checkpoint": (("meaning", "wording", "distinct", "common_distinct", "asks", "asks_off", "when",
                    "agreed", "outside", "order_gap"), 0.03),
    "objection": (("meaning", "wording", "distinct", "turn", "common", "asks_off", "pushback", "resists",
                   "type_fit"), 0.03),
}
# Techniques have no labels of their own; they are things a manager says, like checkpoints.
FAMILIES: dict[Family, Family] = {"checkpoint": "checkpoint", "objection": "objection",
                                  "technique": "checkpoint"}  # fmt: skip


class Devset:
    def __init__(self, root: Path, settings: Settings) -> None:
        self.root, self.settings = root, settings
        self.products = sorted(p.stem for p in (root / "packs").glob("*.yaml"))
        self._loader = None
        self.cache = settings.cache_dir / "devset-transcripts"

    def pack(self, product: str) -> ScriptPack:
        return load_pack(self.root / "packs" / f"{product}.yaml")

    def calls(
        self, product: str, kind: str, renderings: Sequence[str] = RENDERINGS
    ) -> Iterator[tuple[str, Labels, Transcript]]:
        """Each reviewed call of ``product`` as ``kind`` (text, stereo or mono), in ``renderings``
        (the reference text is the same words in both: it is read once)."""
        folders = [self.root / f"{product}{RENDERINGS[r]}" for r in renderings]
        language = self.pack(product).language
        for folder in folders[:1] if kind == "text" else folders:
            for path in sorted(folder.glob("*.json")):
                name = f"{folder.name}/{path.stem}"
                labels = read_labels(path)
                if kind == "text":
                    yield name, labels, reference_transcript(path, language)
                else:
                    yield name, labels, self._transcript(path.with_suffix(f".{kind}.flac"))

    def copies(self, product: str) -> list[str]:
        """The rendering folders of ``product`` whose first call is the same recording as another
        rendering's (sample correlation over 0.999): not the voice their name says."""
        from transcribe.audio import stream_audio

        heard = {}
        for rendering, suffix in RENDERINGS.items():
            first = sorted((self.root / f"{product}{suffix}").glob("*.stereo.flac"))[:1]
            if first:
                heard[rendering] = np.concatenate(list(stream_audio(str(first[0]), block_seconds=600.0)), axis=1)[0]
        found = []
        for (a, left), (b, right) in itertools.combinations(heard.items(), 2):
            if len(left) == len(right) and float(np.corrcoef(left, right)[0, 1]) > 0.999:
                found.append(f"{product}{RENDERINGS[b]}/ holds the recordings of {product}{RENDERINGS[a]}/")
        return found

    def _transcript(self, audio: Path) -> Transcript:
        # Kept by the recording's bytes, the recognition settings and code, and the CPU kernels.
        if self._loader is None:
            from cli.analysis import CallLoader

            self._loader = CallLoader(self.settings, "en", self.cache)
        kept = self._loader.kept
        started, heard = time.perf_counter(), kept.written
        transcript = self._loader(audio).transcript
        if kept.written > heard:
            print(f"  transcribed {audio.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        return transcript


def bags(devset: Devset, products: Sequence[str], kinds: Sequence[str]) -> dict[Family, tuple[list, list]]:
    """Per family, the feature bags of every (call, item) and whether the item was said."""
    found: dict[Family, tuple[list, list]] = {"checkpoint": ([], []), "objection": ([], [])}
    for product in products:
        for kind in kinds:
            for family, values, said in _bags(devset, product, kind, tuple(RENDERINGS)):
                found[family][0].append(values)
                found[family][1].append(said)
    return found


def _bags(
    devset: Devset, product: str, kind: str, renderings: Sequence[str]
) -> Iterator[tuple[Family, np.ndarray, bool]]:
    """Each (call, item) of ``product``: its family, the (unit, FEATURES) array of the sentences
    of the item's speaker, and whether the labels say the item was said."""
    encoder = bundled_encoder()
    pack = devset.pack(product)
    compiled = compile_pack(pack, encoder)
    for _, labels, transcript in devset.calls(product, kind, renderings):
        sentences = units(transcript, pipeline(pack.language))
        vectors = sentence_vectors(encoder, transcript, sentences)
        said = {"checkpoint": set(labels.checkpoints), "objection": {o.type for o in labels.objections}}
        for family in ("checkpoint", "objection"):
            group = compiled.checkpoints if family == "checkpoint" else compiled.objections
            resisting = pushback_of(group, sentences, vectors) if family == "objection" else None
            values, _, _ = features(group, sentences, vectors, transcript.duration, resisting)
            for k, item in enumerate(group.items):
                mask = [u.speaker == item.speaker for u in sentences]
                yield family, values[k][mask], item.id in said[family]


def ranking(
    devset: Devset, product: str, kind: str, models: dict[Family, Model], renderings: Sequence[str]
) -> dict[Family, float]:
    """Per family, the AUC of the (call, item) pairs ranked by their most confident sentence: how
    well said items rank above unsaid ones, whatever the cut-off (fewer calls move it than F1)."""
    scored: dict[Family, tuple[list, list]] = {"checkpoint": ([], []), "objection": ([], [])}
    for family, values, said in _bags(devset, product, kind, renderings):
        scored[family][0].append(float(models[family].confidence(values).max()) if len(values) else 0.0)
        scored[family][1].append(said)
    return {family: auc(np.asarray(s), np.asarray(y)) for family, (s, y) in scored.items()}


def auc(scores: np.ndarray, truth: np.ndarray) -> float:
    """The chance that a said pair outranks an unsaid one (ties count half)."""
    said, unsaid = scores[truth], scores[~truth]
    above = (said[:, None] > unsaid[None, :]).sum() + 0.5 * (said[:, None] == unsaid[None, :]).sum()
    return float(above / max(1, len(said) * len(unsaid)))


def fitted(devset: Devset, products: Sequence[str], kinds: Sequence[str] = FIT_ON) -> dict[Family, Model]:
    data = bags(devset, products, kinds)
    models = {family: fit(*data[family], l2=l2, using=using) for family, (using, l2) in FIT.items()}
    return {family: models[source] for family, source in FAMILIES.items()}


def measure(
    devset: Devset, product: str, kind: str, models: dict[Family, Model] | None,
    renderings: Sequence[str] = tuple(RENDERINGS),
) -> dict:
    pack = devset.pack(product)
    cases = [Case(name, labels, analyze(transcript, pack, models=models))
             for name, labels, transcript in devset.calls(product, kind, renderings)]  # fmt: skip
    return evaluate(cases, [o.id for o in pack.objections])


def row(result: dict) -> str:
    auc = result["separation"]["auc"]
    handled = result["handled_accuracy"]
    return (f"{result['checkpoint_f1']:.3f} | {result['objection_f1']:.3f} | "
            f"{'-' if handled is None else f'{handled:.3f}'} | {'-' if auc is None else f'{auc:.3f}'}")  # fmt: skip


def unsure(result: dict) -> str:
    """The share of verdicts marked unsure, how many of the wrong ones are among them, and how
    many of the others are right."""
    n = result["unsure"]
    sure = n["verdicts"] - n["unsure"]
    right = (sure - (n["wrong"] - n["wrong_unsure"])) / max(1, sure)
    return f"{n['unsure'] / max(1, n['verdicts']):.2f} / {n['wrong_unsure']}/{n['wrong']} / {right:.3f}"


def interruptions(devset: Devset, kind: str) -> str:
    """The reference's interruptions (overlaps of two speakers of 0.5 s or more, as the analysis
    counts them) that the ``kind`` transcripts' turns overlap over, of all of them, and the
    transcripts' ones that match none, over every product and rendering."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import interruptions as matched  # the diarization tests' count, the same way

    totals = np.zeros(3, int)  # found, known, made up
    for product in devset.products:
        language = devset.pack(product).language
        for name, _, transcript in devset.calls(product, kind):
            said = reference_transcript(devset.root / f"{name}.json", language).utterances
            totals += matched(transcript, [(u.start, u.end, u.speaker) for u in said])
    found, known, made_up = totals
    return f"{kind}: {found} of {known} found, {made_up} made up"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=ROOT.parent / "shared" / "data" / "devset")
    parser.add_argument("--inputs", default="text,stereo,mono", help="text, stereo, mono (comma-separated)")
    parser.add_argument("--fit-on", default=",".join(FIT_ON), help="the inputs the weights are fitted on")
    parser.add_argument("--write", action="store_true", help="fit on every product and write the shipped weights")
    parser.add_argument("--only", choices=sorted(FIT), help="with --write: refit this family alone, keep the others")
    parser.add_argument("--verbose", action="store_true", help="every call's errors")
    args = parser.parse_args()
    # Mono calls are diarized as two voices: the set's synthetic voices are, turn by turn, as
    # alike as one real speaker's, and left to decide the diarizer hears about a third of its
    # calls as one voice (bench/one_voice.py); this measures the analysis, not that rule.
    devset = Devset(args.devset, dataclasses.replace(Settings.from_env(), mono_voices="two"))
    kinds, fit_on = args.inputs.split(","), args.fit_on.split(",")
    if args.write:
        models = fitted(devset, devset.products, fit_on)
        if args.only:  # the others as shipped (features added since weigh nothing in them)
            models = {f: m if FAMILIES[f] == args.only else shipped_models()[f] for f, m in models.items()}
        data = {"features": list(FEATURES), "fitted_on": devset.products, "inputs": fit_on,
                "models": list(FAMILIES)}  # fmt: skip
        data |= {family: {"coef": list(m.coef), "bias": m.bias} for family, m in models.items()}
        WEIGHTS.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {WEIGHTS.relative_to(ROOT)} (fitted on {', '.join(devset.products)})")
        return
    for product in devset.products:
        for problem in devset.copies(product):
            print(f"warning: {problem}: its rows measure that rendering again", file=sys.stderr)
    print("| product | input | fitted on | checkpoint F1 | objection-type F1 | handled accuracy | won-above-lost AUC "
          "| checkpoint ranking AUC | objection ranking AUC | unsure: verdicts / wrong ones / the others right |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for product in devset.products:
        others = [p for p in devset.products if p != product]
        models = fitted(devset, others, fit_on)
        rows = [("text", "text", tuple(RENDERINGS))]
        rows += [(f"{kind}, {r}", kind, (r,)) for kind in kinds if kind != "text" for r in RENDERINGS]
        for label, kind, renderings in rows:
            if kind not in kinds:
                continue
            result = measure(devset, product, kind, models, renderings)
            ranked = ranking(devset, product, kind, models, renderings)
            print(f"| {product} | {label} | {', '.join(others)} | {row(result)} "
                  f"| {ranked['checkpoint']:.3f} | {ranked['objection']:.3f} | {unsure(result)} |", flush=True)
            if args.verbose:
                for call in result["per_call"]:
                    if call["errors"]:
                        print(f"    {call['name']} ({call['outcome']}, {call['score']}): {'; '.join(call['errors'])}")
    cut_in = [interruptions(devset, kind) for kind in kinds if kind != "text"]
    if cut_in:
        print(f"\nInterruptions (overlaps of 0.5 s or more) in the recordings: {'; '.join(cut_in)}")


if __name__ == "__main__":
    main()
