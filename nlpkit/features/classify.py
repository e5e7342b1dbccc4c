"""Classical classifiers over TF-IDF or PCA features: softmax regression, linear SVM, small MLP.

Scores are stratified k-fold cross-validated (accuracy and macro F1, mean and spread), with
the confusion matrix summed over folds and each class' top features from a model refit on
all rows. :func:`run_rows` turns a result into ``model_runs`` rows.

>>> res = cross_validate(X, y, terms, ClassifyOptions(model="softmax"))   # doctest: +SKIP
>>> res.accuracy, res.f1
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from nlpkit.errors import FeatureError

__all__ = ["MODELS", "ClassifyOptions", "ClassifyResult", "cross_validate", "run_rows"]

Model = Literal["softmax", "svm", "mlp"]
MODELS: tuple[str, ...] = ("softmax", "svm", "mlp")


@dataclass(frozen=True, slots=True)
class ClassifyOptions:
    """What to train and how to score it."""

    model: Model = "softmax"
    folds: int = 5          # stratified k-fold CV
    c: float = 1.0          # inverse regularization of softmax / SVM
    hidden: tuple[int, ...] = (128,)  # MLP hidden layer sizes
    max_iter: int = 200     # MLP epochs / solver iterations
    top_n: int = 10         # top features kept per class
    seed: int = 13


@dataclass(frozen=True, slots=True)
class ClassifyResult:
    """Cross-validated scores, summed confusion matrix (rows: true, columns: predicted), top features."""

    options: ClassifyOptions
    classes: list[str]
    accuracy: float
    accuracy_std: float
    f1: float
    f1_std: float
    confusion: np.ndarray
    top_features: dict[str, list[tuple[str, float]]]
    feature_kind: str
    seconds: float
    fold_scores: list[dict[str, float]] = field(default_factory=list)


def _estimator(opt: ClassifyOptions) -> Any:
    if opt.model == "softmax":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=opt.c, max_iter=1000)
    if opt.model == "svm":
        from sklearn.svm import LinearSVC

        return LinearSVC(C=opt.c)
    if opt.model == "mlp":
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(hidden_layer_sizes=opt.hidden, max_iter=opt.max_iter, early_stopping=True,
                             random_state=opt.seed)
    raise FeatureError(f"unknown model {opt.model!r}; choose one of: {', '.join(MODELS)}")


def _check(X: Any, y: Sequence[object], opt: ClassifyOptions) -> tuple[np.ndarray, int]:
    labels = np.asarray(["" if v is None else str(v) for v in y], dtype=object)
    if labels.shape[0] != X.shape[0]:
        raise FeatureError(f"{labels.shape[0]} labels for {X.shape[0]} documents")
    if (labels == "").any():
        raise FeatureError(f"{int((labels == '').sum())} documents have no label; keep labelled rows only")
    classes, counts = np.unique(labels, return_counts=True)
    if classes.size < 2:
        raise FeatureError(f"classification needs at least 2 classes; got {classes.size}")
    if not isinstance(opt.folds, int) or opt.folds < 2:
        raise FeatureError(f"folds must be an int >= 2; got {opt.folds!r}")
    folds = min(opt.folds, int(counts.min()))
    if folds < 2:
        raise FeatureError(f"class {classes[counts.argmin()]!r} has a single document; cross-validation needs 2+ per class")
    return labels, folds


def cross_validate(X: sp.spmatrix | np.ndarray, y: Sequence[object], terms: Sequence[str] | None,
                   options: ClassifyOptions = ClassifyOptions(), *, X_terms: sp.spmatrix | None = None,
                   progress: Callable[[int], None] | None = None) -> ClassifyResult:
    """Stratified k-fold scores of ``options.model`` on ``X``; ``terms`` name the columns of ``X_terms``.

    ``X_terms`` (defaults to ``X``) is the TF-IDF matrix the top features are read from: the
    coefficients of a linear model fitted on it, or, for the MLP (or reduced ``X``), each
    class' mean TF-IDF minus the overall mean.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
    from sklearn.model_selection import StratifiedKFold

    started = time.perf_counter()
    labels, folds = _check(X, y, options)
    classes = sorted(set(labels.tolist()))
    conf = np.zeros((len(classes), len(classes)), np.int64)
    fold_scores = []
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=options.seed)
    for i, (tr, te) in enumerate(skf.split(np.zeros(len(labels)), labels)):
        est = _estimator(options).fit(X[tr], labels[tr])
        pred = est.predict(X[te])
        conf += confusion_matrix(labels[te], pred, labels=classes)
        fold_scores.append({"fold": float(i), "accuracy": float(accuracy_score(labels[te], pred)),
                            "f1": float(f1_score(labels[te], pred, average="macro"))})
        if progress:
            progress(1)
    T = X if X_terms is None else X_terms
    top = _top_features(T, labels, classes, terms, options, use_coef=X_terms is None and options.model != "mlp")
    acc = np.array([f["accuracy"] for f in fold_scores])
    f1 = np.array([f["f1"] for f in fold_scores])
    return ClassifyResult(options, classes, float(acc.mean()), float(acc.std()), float(f1.mean()), float(f1.std()),
                          conf, top, "tfidf" if X_terms is None else "pca", time.perf_counter() - started, fold_scores)


def _top_features(T: Any, labels: np.ndarray, classes: list[str], terms: Sequence[str] | None,
                  opt: ClassifyOptions, *, use_coef: bool) -> dict[str, list[tuple[str, float]]]:
    if terms is None:
        return {}
    names = np.asarray(terms, dtype=object)
    if use_coef:
        coef = np.asarray(_estimator(opt).fit(T, labels).coef_)
        if coef.shape[0] == 1:  # binary: one row for the positive (second) class
            coef = np.vstack([-coef[0], coef[0]])
    else:
        Tc = sp.csr_matrix(T)
        overall = np.asarray(Tc.mean(axis=0)).ravel()
        coef = np.vstack([np.asarray(Tc[labels == c].mean(axis=0)).ravel() - overall for c in classes])
    out = {}
    for ci, c in enumerate(classes):
        w = coef[ci]
        idx = np.argsort(-w, kind="stable")[: opt.top_n]
        out[c] = [(str(names[j]), float(w[j])) for j in idx if w[j] > 0]
    return out


def run_rows(result: ClassifyResult, dataset: str, run_id: str, model_dir: str = "",
             params: dict[str, Any] | None = None) -> pa.Table:
    """One ``model_runs`` row (split ``cv<k>``) with the shared columns plus confusion/top-feature JSON."""
    opt = result.options
    row = {
        "model": f"tfidf_{opt.model}", "dataset": dataset, "split": f"cv{len(result.fold_scores)}",
        "params": json.dumps({**asdict(opt), "features": result.feature_kind, **(params or {})}, default=str),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "run_id": run_id, "model_dir": model_dir,
        "epoch": 0, "step": 0, "elapsed_s": round(result.seconds, 3),
        "accuracy": result.accuracy, "f1": result.f1, "accuracy_std": result.accuracy_std, "f1_std": result.f1_std,
        "classes": json.dumps(result.classes, ensure_ascii=False),
        "confusion": json.dumps(result.confusion.tolist()),
        "top_features": json.dumps(result.top_features, ensure_ascii=False),
    }
    from nlpkit.store.model_runs import run_table

    return run_table([row])
