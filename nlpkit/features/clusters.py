"""k-means clusters (MiniBatchKMeans) with k chosen by silhouette over a range.

>>> result = choose_k(Z, k_values=range(2, 11))           # doctest: +SKIP
>>> result.k, result.sizes
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from nlpkit.errors import FeatureError

__all__ = ["ClusterResult", "choose_k"]


@dataclass(frozen=True, slots=True)
class ClusterResult:
    """The chosen ``k``, each row's cluster, cluster sizes, and silhouette/inertia for every k tried."""

    k: int
    labels: np.ndarray
    sizes: np.ndarray
    scores: list[dict[str, float]]


def choose_k(Z: np.ndarray, k_values: Iterable[int] = range(2, 13), *, seed: int = 13,
             silhouette_sample: int = 3000, minibatch_above: int = 20000) -> ClusterResult:
    """Cluster the rows of ``Z`` (L2-normalized first) for each ``k``; keep the best silhouette.

    MiniBatchKMeans above ``minibatch_above`` rows (large corpora), full KMeans below.

    ``k`` values at or above the number of distinct rows are skipped; with fewer than 3
    distinct rows there is nothing to cluster and a FeatureError says so.
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.metrics import silhouette_score

    Z = np.asarray(Z, dtype=np.float32)
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    Zn = np.divide(Z, norms, out=np.zeros_like(Z), where=norms > 0)
    distinct = np.unique(Zn.round(6), axis=0).shape[0]
    ks = sorted({int(k) for k in k_values if 2 <= int(k) < distinct})
    if not ks:
        raise FeatureError(f"cannot cluster {Z.shape[0]} documents ({distinct} distinct vectors) into "
                           f"k in {sorted(set(int(k) for k in k_values))}: need k >= 2 and below the number of distinct documents")
    best: tuple[float, int, np.ndarray] | None = None
    scores = []
    for k in ks:
        km = (MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=2048) if Zn.shape[0] > minibatch_above
              else KMeans(n_clusters=k, random_state=seed, n_init=3))
        labels = km.fit_predict(Zn)
        if np.unique(labels).size < 2:
            sil = -1.0
        else:
            sil = float(silhouette_score(Zn, labels, sample_size=min(silhouette_sample, Zn.shape[0]),
                                         random_state=seed))
        scores.append({"k": float(k), "silhouette": sil, "inertia": float(km.inertia_)})
        if best is None or sil > best[0]:
            best = (sil, k, labels)
    assert best is not None
    sizes = np.bincount(best[2], minlength=best[1])
    return ClusterResult(best[1], best[2].astype(np.int32), sizes, scores)
