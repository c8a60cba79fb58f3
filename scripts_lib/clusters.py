"""Sentences grouped by their words and spellings (scikit-learn). ``scripts_lib.draft`` imports
this module only when it groups what managers said: scikit-learn takes about 2 s to import."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_union


def cluster(texts: list[str], distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Each text's group label, and the vectors the groups were formed on (word and character
    n-grams); groups join while their average cosine distance stays under ``distance``."""
    features = make_union(
        TfidfVectorizer(analyzer="word", token_pattern=r"(?u)\b\w+\b"),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4)),
    )
    vectors = features.fit_transform(texts).toarray()
    labels = AgglomerativeClustering(
        n_clusters=None, distance_threshold=distance, metric="cosine", linkage="average"
    ).fit_predict(vectors)
    return labels, vectors
