"""Which features of a call predict a won deal: a logistic regression, cross-validated
(scikit-learn). ``analysis.calibrate`` imports this module only when there are enough labelled
calls to fit: scikit-learn takes about 2 s to import."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def fit_outcomes(x: np.ndarray, y: np.ndarray, folds: int) -> tuple[np.ndarray, np.ndarray]:
    """The cross-validated AUC of each of ``folds`` folds, and the coefficient of each feature
    (standardised) when fitted on all calls."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    scores = cross_val_score(model, x, y, cv=split, scoring="roc_auc")
    model.fit(x, y)
    return scores, model[-1].coef_[0]


def auc(y: np.ndarray, scores: list[float]) -> float:
    return float(roc_auc_score(y, scores))
