"""`nlpkit features classify`: cross-validate a classical classifier on a built dataset and record the run.

Reads the persisted TF-IDF index (and PCA features) of ``nlpkit features build``, so nothing
is re-tokenized; appends one row to ``model_runs`` and draws the confusion matrix and
top-feature plots into ``<data_dir>/reports/<dataset>/``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from nlpkit.errors import FeatureError
from nlpkit.features.build import index_name, load_index
from nlpkit.features.classify import ClassifyOptions, ClassifyResult, cross_validate, run_rows
from nlpkit.store import Store

__all__ = ["classify_dataset"]


def classify_dataset(store: Store, dataset: str, options: ClassifyOptions = ClassifyOptions(), *,
                     features: str = "auto", progress: Callable[[int], None] | None = None,
                     ) -> tuple[ClassifyResult, list[Path]]:
    """Score ``options.model`` on ``dataset``'s labelled documents; returns the result and its plots."""
    from nlpkit.features.report import plot_classify_run
    from nlpkit.store.model_runs import append_runs, new_run_id

    index = load_index(store, dataset)
    info = store.latest(index_name(dataset))
    if "label" not in store.columns(dataset):
        raise FeatureError(f"dataset {dataset!r} has no 'label' column: classification needs labels")
    ids = store.read(dataset, columns=["id", "label"])
    label_of = dict(zip(map(str, ids.column("id").to_pylist()), ids.column("label").to_pylist()))
    labels = np.asarray(["" if label_of.get(i) is None else str(label_of.get(i)) for i in index.ids], dtype=object)
    mask = labels != ""
    if not mask.any():
        raise FeatureError(f"dataset {dataset!r} has no labelled documents")
    use = ("pca" if options.model == "mlp" else "tfidf") if features == "auto" else features
    X = index.matrix[mask]
    terms = index.tfidf.get_feature_names_out()
    if use == "pca":
        Z = np.load(info.path / "pca.npy", allow_pickle=False)[mask]
        res = cross_validate(Z, labels[mask], terms, options, X_terms=X, progress=progress)
    else:
        res = cross_validate(X, labels[mask], terms, options, progress=progress)
    run_id = new_run_id()
    table = run_rows(res, dataset, run_id, model_dir=str(info.path),
                     params={"index_version": info.version, "documents": int(mask.sum())})
    append_runs(store, table)
    row = table.to_pylist()[0]
    return res, plot_classify_run(row, store.root / "reports" / dataset)
