"""PCA (TruncatedSVD on sparse TF-IDF) and Linear Discriminant Analysis projections.

PCA keeps the overall shape of the data; LDA finds the directions that separate labelled
classes. LDA runs on the SVD-reduced features (dense, low-dimensional), never on raw
sparse TF-IDF. :func:`separation` scores both on held-out documents, so the comparison is fair.

>>> pca = pca_project(X, n_components=50)               # doctest: +SKIP
>>> lda = lda_project(pca.features, labels)             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from nlpkit.errors import FeatureError

__all__ = ["PcaResult", "LdaResult", "pca_project", "lda_project", "separation"]


@dataclass(frozen=True, slots=True)
class PcaResult:
    """``features``: (n, n_components) SVD coordinates; ``explained_variance_ratio`` per component."""

    features: np.ndarray
    explained_variance_ratio: np.ndarray
    components: np.ndarray


@dataclass(frozen=True, slots=True)
class LdaResult:
    """``coords``: (n, <= 2) discriminant coordinates; ``explained_variance_ratio`` per direction."""

    coords: np.ndarray
    explained_variance_ratio: np.ndarray
    classes: list[str]
    train_accuracy: float


def pca_project(X: sp.spmatrix, n_components: int = 50, *, seed: int = 13) -> PcaResult:
    """TruncatedSVD of ``X`` (PCA without centring, the usual choice for sparse TF-IDF)."""
    from sklearn.decomposition import TruncatedSVD

    n, m = X.shape
    if n < 3 or m < 2:
        raise FeatureError(f"PCA needs at least 3 documents and 2 terms; got {n} x {m}")
    if not isinstance(n_components, int) or n_components < 2:
        raise FeatureError(f"n_components must be an int >= 2; got {n_components!r}")
    k = min(n_components, n - 1, m - 1)
    svd = TruncatedSVD(n_components=k, algorithm="randomized", n_iter=5, random_state=seed)
    Z = svd.fit_transform(X).astype(np.float32)
    return PcaResult(Z, svd.explained_variance_ratio_.astype(np.float64), svd.components_.astype(np.float32))


def _labels(labels: Sequence[object] | None, n: int) -> np.ndarray:
    if labels is None:
        raise FeatureError("LDA needs labels: this dataset has no 'label' column (or it is empty); "
                           "use PCA, or import the data with --label-col")
    y = np.asarray(["" if v is None else str(v) for v in labels], dtype=object)
    if y.shape[0] != n:
        raise FeatureError(f"{y.shape[0]} labels for {n} documents")
    known = y[y != ""]
    if np.unique(known).size < 2:
        raise FeatureError(f"LDA needs at least 2 classes; labels give {np.unique(known).size} "
                           f"({', '.join(map(str, np.unique(known)[:3])) or 'none'})")
    return y


def lda_project(features: np.ndarray, labels: Sequence[object] | None, *, n_components: int = 2) -> LdaResult:
    """Fit LDA on the labelled rows of ``features`` and project every row (unlabelled ones too)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    y = _labels(labels, features.shape[0])
    mask = y != ""
    classes = sorted(set(y[mask].tolist()))
    if int(mask.sum()) <= len(classes):
        raise FeatureError(f"LDA needs more labelled documents ({int(mask.sum())}) than classes ({len(classes)}); "
                           "add labelled documents or use PCA")
    k = min(n_components, len(classes) - 1, features.shape[1])
    lda = LinearDiscriminantAnalysis(n_components=k, solver="svd")
    lda.fit(features[mask], y[mask])
    coords = lda.transform(features).astype(np.float32)
    return LdaResult(coords, np.asarray(lda.explained_variance_ratio_, np.float64), classes,
                     float(lda.score(features[mask], y[mask])))


def separation(coords: np.ndarray, labels: Sequence[object], sample: int = 5000, seed: int = 13) -> float:
    """Silhouette of the label classes in ``coords`` (higher: classes better separated; -1..1)."""
    from sklearn.metrics import silhouette_score

    y = np.asarray([str(v) for v in labels], dtype=object)
    if not 2 <= np.unique(y).size < coords.shape[0]:
        return float("nan")  # silhouette is undefined: callers store it as missing
    size = min(sample, coords.shape[0])
    return float(silhouette_score(coords, y, sample_size=size, random_state=seed))
