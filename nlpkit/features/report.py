"""The analysts' report page of one dataset: PNG plots plus ``index.html``, from stored outputs only.

Written to ``<data_dir>/reports/<dataset>/`` (built aside, then swapped in): PCA and LDA
scatter coloured by label and by cluster, explained variance, silhouette vs k, cluster top
terms, and for every ``nlpkit classify`` run of the dataset its confusion matrix and
per-class top features.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc

from nlpkit.errors import DatasetError, FeatureError
from nlpkit.features import plots
from nlpkit.features.build import index_name
from nlpkit.store import Store

__all__ = ["write_report", "plot_classify_run"]


def _rows(store: Store, name: str, dataset: str, table: str = "data") -> Any:
    t = store.read(name, table)
    return t.filter(pc.equal(t.column("dataset"), dataset)).to_pandas()


def plot_classify_run(result_row: dict[str, Any], out_dir: Path) -> list[Path]:
    """Confusion matrix and top-features PNGs of one ``model_runs`` row written by ``classify``."""
    classes = json.loads(result_row["classes"])
    conf = np.asarray(json.loads(result_row["confusion"]))
    top = {c: [tuple(p) for p in v] for c, v in json.loads(result_row["top_features"]).items()}
    stem = f"classify_{result_row['model']}_{result_row['run_id']}"
    title = f"{result_row['model']} on {result_row['dataset']}: accuracy {result_row['accuracy']:.3f}, macro F1 {result_row['f1']:.3f}"
    out = [plots.confusion(conf, classes, title, out_dir / f"{stem}_confusion.png")]
    if top:
        out.append(plots.top_terms_panels(top, f"{result_row['model']}: top features per class", out_dir / f"{stem}_top.png"))
    return out


def _number(value: object) -> str:
    """Three decimals, or "n/a" where a step had too little data to compute the number."""
    return f"{value:.3f}" if isinstance(value, (int, float)) and value == value else "n/a"


def write_report(store: Store, dataset: str, out_dir: str | Path | None = None) -> Path:
    """Draw every plot for ``dataset`` and write the HTML page; returns the path of ``index.html``."""
    try:
        info = store.latest(index_name(dataset))
        proj = _rows(store, "projections", dataset)
        scores = _rows(store, "clusters", dataset, "scores")
        summary = _rows(store, "clusters", dataset, "summary")
    except DatasetError as e:
        raise FeatureError(f"no features for dataset {dataset!r} yet: run `nlpkit features build {dataset}` first") from e
    final = Path(out_dir) if out_dir else store.root / "reports" / dataset
    tmp = final.parent / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    numbers = info.manifest.get("numbers", {})
    figures: list[tuple[str, str]] = []
    try:
        pca = proj[proj["method"] == "pca"]
        xy = pca[["x", "y"]].to_numpy()
        labelled = pca["label"].astype(str).ne("").any()
        if labelled:
            figures.append((plots.scatter(xy, pca["label"], f"{dataset}: PCA (TruncatedSVD) by label", tmp / "pca_label.png").name,
                            "PCA keeps the overall shape of the data; colours are the labels."))
        figures.append((plots.scatter(xy, pca["cluster"], f"{dataset}: PCA by k-means cluster", tmp / "pca_cluster.png").name,
                        "The same projection coloured by cluster."))
        lda = proj[proj["method"] == "lda"]
        if len(lda):
            sep = (f"held-out silhouette by label: LDA {_number(numbers.get('separation_heldout_lda'))} vs "
                   f"PCA 2-D {_number(numbers.get('separation_heldout_pca_2d'))}")
            figures.append((plots.scatter(lda[["x", "y"]].to_numpy(), lda["label"], f"{dataset}: LDA by label",
                                          tmp / "lda_label.png", "LD1", "LD2").name,
                            "LDA finds the directions that separate the labelled classes; " + sep + "."))
        ratios = numbers.get("pca_explained_variance_ratio", [])
        if ratios:
            figures.append((plots.explained_variance(ratios, f"{dataset}: explained variance (TruncatedSVD)",
                                                     tmp / "explained_variance.png").name,
                            f"First 2 components: {sum(ratios[:2]):.3f}; all {len(ratios)}: {sum(ratios):.3f}."))
        chosen = int(scores.loc[scores["chosen"], "k"].iloc[0]) if scores["chosen"].any() else int(scores["k"].iloc[0])
        figures.append((plots.silhouette_vs_k(scores.to_dict("records"), chosen, f"{dataset}: choosing k",
                                              tmp / "silhouette_vs_k.png").name,
                        f"k = {chosen} has the best silhouette."))
        tops = {f"cluster {int(r.cluster)} ({int(r.size)} docs)": [(t, float(len(r.top_terms.split(', ')) - i))
                                                                  for i, t in enumerate(r.top_terms.split(", ")) if t]
                for r in summary.itertuples()}
        figures.append((plots.top_terms_panels(tops, f"{dataset}: cluster top terms (bar length = rank)",
                                               tmp / "cluster_terms.png").name, "Top TF-IDF terms of each cluster's mean vector."))
        try:
            runs = store.read_appended("model_runs").to_pandas()
            if "confusion" in runs.columns:
                runs = runs[(runs["dataset"] == dataset) & runs["confusion"].notna()]
                for row in runs.drop_duplicates("model", keep="last").to_dict("records"):
                    for p in plot_classify_run(row, tmp):
                        figures.append((p.name, f"{row['model']} ({row['split']}): accuracy {row['accuracy']:.3f}, "
                                                f"macro F1 {row['f1']:.3f}"))
        except DatasetError:
            pass
        items = "\n".join(f"<figure><img src='{html.escape(src)}' alt='{html.escape(src)}'><figcaption>{html.escape(cap)}"
                          f"</figcaption></figure>" for src, cap in figures)
        table = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(json.dumps(v) if isinstance(v, list) else str(v))}</td></tr>"
                        for k, v in numbers.items() if k != "pca_explained_variance_ratio")
        page = (f"<!doctype html><html><head><meta charset='utf-8'><title>nlpkit features: {html.escape(dataset)}</title>"
                "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}figure{margin:1.5em 0}"
                "img{max-width:100%;border:1px solid #ddd}td{padding:2px 10px;border-bottom:1px solid #eee}</style></head><body>"
                f"<h1>Features of <code>{html.escape(dataset)}</code></h1>"
                f"<p>{info.manifest['counts'].get('documents', 0):,} documents, {info.manifest['counts'].get('terms', 0):,} terms; "
                f"{html.escape(info.dataset)} {info.version}, built {html.escape(info.created_at)}.</p>"
                f"<table>{table}</table>{items}</body></html>")
        (tmp / "index.html").write_text(page, "utf-8")
        old = None
        if final.exists():
            old = final.parent / f".old-{final.name}-{uuid.uuid4().hex[:8]}"
            os.rename(final, old)
        os.rename(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final / "index.html"
