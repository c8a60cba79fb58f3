"""Fitting the weights of ``analysis.meaning`` on labelled calls (used by bench/meaning.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize

from analysis.weights import FEATURES, Model


def fit(
    bags: Sequence[np.ndarray],
    labels: Sequence[bool],
    l2: float = 0.003,
    using: Sequence[str] = FEATURES,
) -> Model:
    """Weights from labelled calls: each bag is the (unit, FEATURES) array of the sentences that
    could carry one item in one call, labelled with whether the item was said there.

    The call's probability is that of its most likely sentence (multiple-instance learning);
    features are standardised for the fit, and the weights are returned on the raw scale, with
    the bias moved so that 0.5 falls where the training calls' F1 is best.
    Features not in ``using`` get no weight.
    """
    keep = [FEATURES.index(f) for f in using]
    bags = [b[:, keep] for b in bags]
    rows = np.vstack([b for b in bags if len(b)])
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale == 0] = 1.0
    scaled = [(b - mean) / scale if len(b) else np.zeros((1, len(keep))) for b in bags]
    y = np.asarray(labels, dtype=float)

    def loss(w: np.ndarray) -> float:
        z = np.array([(b @ w[:-1]).max() for b in scaled]) + w[-1]
        p = np.clip(1 / (1 + np.exp(-z)), 1e-9, 1 - 1e-9)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + l2 * np.sum(w[:-1] ** 2))

    best = None
    for seed in range(4):
        start = np.random.default_rng(seed).normal(0, 0.5, len(keep) + 1)
        result = minimize(loss, start, method="Powell", options={"maxiter": 20000, "xtol": 1e-4})
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None
    # The cut-off: where the calls' F1 is best, rather than the probability 0.5 (few calls hold
    # any one item, so the likelihood alone leans towards missing them).
    z = np.array([(b @ best.x[:-1]).max() for b in scaled])
    cuts = np.unique(z)
    f1 = [_f1(z >= c, y > 0) for c in cuts]
    cut = float(cuts[int(np.argmax(f1))]) if len(cuts) else 0.0
    shift = -cut + 1e-6 if len(cuts) else best.x[-1]
    coef = np.zeros(len(FEATURES))
    coef[keep] = best.x[:-1] / scale
    bias = shift - float(np.sum(best.x[:-1] * mean / scale))
    return Model(tuple(round(float(c), 5) for c in coef), round(float(bias), 5))


def _f1(found: np.ndarray, truth: np.ndarray) -> float:
    tp = int(np.sum(found & truth))
    return 2 * tp / (2 * tp + int(np.sum(found & ~truth)) + int(np.sum(~found & truth))) if tp else 0.0
