"""The analysts' report of one dataset: one HTML page people read, plus its PNG plots, from stored outputs only.

Written to ``<data_dir>/reports/<dataset>/`` (built aside, then swapped in). The page says in words
what each number means (rounded for people: at most 4 significant digits), how much of the variance
the 2-D pictures keep, each cluster's top terms as words with bars as long as their weights, a few
member titles per cluster, each label's keywords (label names, not ids) and every classifier run's
scores and confusion matrix.

Why a page of its own rather than the web app's pages saved as files: the app's pages are
interactive (search forms, links to ``/article``, a live SQL box) and need the server; the report
must open from a folder, offline, and be mailed around. It reads the same tables the app reads
(``clusters``, ``tfidf_keywords``, ``projections``, ``model_runs``) and is rendered from a Jinja2
template, like the app.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nlpkit.datasets.labels import label_names
from nlpkit.errors import DatasetError, FeatureError
from nlpkit.features import plots
from nlpkit.features.build import index_name
from nlpkit.features.storeio import feature_table
from nlpkit.store import Store

__all__ = ["write_report", "plot_classify_run", "readable"]

MEMBERS_SHOWN = 5
# manifest number -> (what people call it, one sentence saying what it means, how to print it)
_NUMBERS: dict[str, tuple[str, str, str]] = {
    "pca_explained_variance_2d": (
        "Variance the 2-D PCA picture keeps",
        "Share of the TF-IDF variance the first 2 principal components hold; the rest does not show in the scatter.",
        "percent"),
    "pca_explained_variance": (
        "Variance all PCA components keep",
        "Share of the TF-IDF variance the stored principal components hold together.", "percent"),
    "lda_explained_variance": (
        "Between-label variance on LDA's 2 axes",
        "How much of what tells the labels apart the two LDA directions capture.", "percent_sum2"),
    "lda_train_accuracy": (
        "LDA accuracy on the documents it was fitted to",
        "How often the nearest label centre on LDA's axes is the true label (optimistic: seen documents).",
        "percent"),
    "separation_heldout_pca_2d": (
        "Label separation in the PCA picture (held-out documents)",
        "Silhouette of the labels in the 2-D PCA plane: 1 = tight separate groups, 0 = overlapping, "
        "below 0 = mixed together.", "score"),
    "separation_heldout_lda": (
        "Label separation on LDA's axes (held-out documents)",
        "The same silhouette on the 2 LDA axes, for documents LDA did not see.", "score"),
    "chosen_k": ("Number of clusters", "The k-means k with the best silhouette among those tried.", "int"),
}


def readable(value: float, kind: str = "score") -> str:
    """``value`` for people: a percent with 2-3 significant digits, or at most 3 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "percent":
        return f"{value:.1%}" if abs(value) >= 0.001 else f"{value * 100:.2g}%"
    if kind == "int":
        return f"{int(value):,}"
    return f"{value:.3g}" if abs(value) >= 1e-4 else "0"


def _count(n: int) -> str:
    """A count: exact below 10,000, else rounded to 3 significant digits ("about 80,300")."""
    if n < 10_000:
        return f"{n:,}"
    rounded = int(round(n, -(len(str(n)) - 3)))
    return f"{rounded:,}" if rounded == n else f"about {rounded:,}"


def _rows(store: Store, name: str, dataset: str, table: str = "data", *, version: str | None = None) -> Any:
    """``dataset``'s rows of feature table ``name`` from its features version ``version`` (the report pins one
    version, so every table it shows comes from the same build)."""
    return feature_table(store, dataset, name if table == "data" else f"{name}_{table}", version).to_pandas()


def _titles(store: Store, dataset: str) -> dict[str, str]:
    """Document id -> title (the first words of the text where there is no title)."""
    try:
        if dataset == "articles" and "articles" not in store.datasets():
            t = store.read_appended("articles", ["canonical_url", "title"]).to_pydict()
            return {str(i): str(x or "") for i, x in zip(t["canonical_url"], t["title"])}
        cols = [c for c in ("id", "title", "text") if c in store.columns(dataset)]
        t = store.read(dataset, columns=cols).to_pydict()
    except DatasetError:
        return {}
    texts = t.get("title") or t.get("text") or [""] * len(t["id"])
    return {str(i): (str(x) if "title" in t else " ".join(str(x).split()[:12]) + " …") for i, x in zip(t["id"], texts)}


def plot_classify_run(result_row: dict[str, Any], out_dir: Path, names: dict[str, str] | None = None) -> list[Path]:
    """Confusion matrix and top-features PNGs of one ``model_runs`` row written by ``classify``."""
    names = names or {}
    classes = [names.get(str(c), str(c)) for c in json.loads(result_row["classes"])]
    conf = np.asarray(json.loads(result_row["confusion"]))
    top = {names.get(str(c), str(c)): [tuple(p) for p in v] for c, v in json.loads(result_row["top_features"]).items()}
    stem = f"classify_{result_row['model']}_{result_row['run_id']}"
    title = (f"{result_row['model']} on {result_row['dataset']}: accuracy {readable(result_row['accuracy'], 'percent')}, "
             f"macro F1 {readable(result_row['f1'])}")
    out = [plots.confusion(conf, classes, title, out_dir / f"{stem}_confusion.png")]
    if top:
        out.append(plots.top_terms_panels(top, f"{result_row['model']}: top features per class (bar = weight)",
                                          out_dir / f"{stem}_top.png"))
    return out


def _bars(store: Store, dataset: str, scope: str, version: str) -> dict[str, list[tuple[str, float]]]:
    kw = _rows(store, "tfidf_keywords", dataset, version=version)
    kw = kw[kw["scope"] == scope].sort_values(["key", "rank"])
    return {str(k): [(str(t), float(w)) for t, w in zip(g["term"], g["weight"])] for k, g in kw.groupby("key")}


def _variance_caption(numbers: dict[str, Any]) -> str:
    kept = numbers.get("pca_explained_variance_2d")
    if kept is None:
        return "The 2-D projection of the TF-IDF vectors (PCA); colours are the labels."
    ratios = numbers.get("pca_explained_variance_ratio") or []
    total = f" ({len(ratios)} components: {readable(sum(ratios), 'percent')})" if ratios else ""
    verdict = ("the picture is a rough sketch: trust the clusters and neighbours (computed on all terms) more"
               if kept < 0.25 else "a fair picture of the main directions, though distances are approximate")
    return f"The first 2 components keep {readable(kept, 'percent')} of the variance{total}: {verdict}."


def _figures(store: Store, dataset: str, tmp: Path, numbers: dict[str, Any], names: dict[str, str],
             version: str) -> list[tuple[str, str]]:
    proj = _rows(store, "projections", dataset, version=version)
    scores = _rows(store, "clusters", dataset, "scores", version=version)
    figures: list[tuple[str, str]] = []
    pca = proj[proj["method"] == "pca"]
    xy = pca[["x", "y"]].to_numpy()
    caption = _variance_caption(numbers)
    label = pca["label"].astype(str).map(lambda v: names.get(v, v))
    if label.ne("").any():
        figures.append((plots.scatter(xy, label, f"{dataset}: PCA by label", tmp / "pca_label.png").name,
                        caption + " Colours are the labels."))
    figures.append((plots.scatter(xy, pca["cluster"], f"{dataset}: PCA by k-means cluster", tmp / "pca_cluster.png").name,
                    caption + " Colours are the clusters."))
    lda = proj[proj["method"] == "lda"]
    if len(lda):
        sep = numbers.get("separation_heldout_lda")
        said = f" On held-out documents the labels' silhouette here is {readable(sep)}." if sep is not None else ""
        figures.append((plots.scatter(lda[["x", "y"]].to_numpy(), lda["label"].astype(str).map(lambda v: names.get(v, v)),
                                      f"{dataset}: LDA by label", tmp / "lda_label.png", "LD1", "LD2").name,
                        "LDA picks the 2 directions that best separate the labels, so labels look apart here by "
                        "construction." + said))
    if len(scores):
        chosen_rows = scores[scores["chosen"]] if scores["chosen"].any() else scores.iloc[:1]
        chosen, sil = int(chosen_rows["k"].iloc[0]), float(chosen_rows["silhouette"].iloc[0])
        figures.append((plots.silhouette_vs_k(scores.to_dict("records"), chosen, f"{dataset}: choosing k",
                                              tmp / "silhouette_vs_k.png").name,
                        f"k = {chosen} has the best silhouette ({readable(sil)}; 1 = tight separate clusters, "
                        "0 = overlapping)."))
    return figures


def _runs(store: Store, dataset: str, tmp: Path, names: dict[str, str]) -> list[dict[str, Any]]:
    try:
        runs = store.read_appended("model_runs").to_pandas()
    except DatasetError:
        return []
    runs = runs[runs["dataset"] == dataset]
    out = []
    for row in runs.drop_duplicates(["model", "split"], keep="last").to_dict("records"):
        ok = all(isinstance(row.get(c), str) and row[c] for c in ("classes", "confusion", "top_features"))
        pngs = plot_classify_run(row, tmp, names) if ok else []
        std = row.get("accuracy_std")
        out.append({"model": row["model"], "split": row["split"], "accuracy": readable(row["accuracy"], "percent"),
                    "accuracy_std": readable(std, "percent") if std is not None and not pd.isna(std) else "",
                    "f1": readable(row["f1"]), "images": [p.name for p in pngs]})
    return out


def _clusters(store: Store, dataset: str, names: dict[str, str], version: str) -> list[dict[str, Any]]:
    summary = _rows(store, "clusters", dataset, "summary", version=version).sort_values(
        ["size", "cluster"], ascending=[False, True])
    members = _rows(store, "clusters", dataset, version=version)
    titles = _titles(store, dataset)
    bars = _bars(store, dataset, "cluster", version)
    labels = {str(d): names.get(str(v), str(v)) for d, v in _rows(store, "projections", dataset, version=version)
              .query("method == 'pca'")[["id", "label"]].itertuples(index=False)}
    out = []
    for cl, size in summary[["cluster", "size"]].itertuples(index=False):
        ids = [str(d) for d in members.loc[members["cluster"] == cl, "id"]]
        common = pd.Series([labels.get(d, "") for d in ids]).replace("", np.nan).dropna().value_counts()
        top = f"{common.index[0]} ({common.iloc[0] / common.sum():.0%} of its labelled documents)" if len(common) else ""
        out.append({"cluster": int(cl), "size": _count(int(size)), "label": top,
                    "terms": _scaled(bars.get(str(cl), [])),
                    "titles": _spread([titles[d] for d in ids if titles.get(d)], MEMBERS_SHOWN)})
    return out


def _spread(items: list[str], n: int) -> list[str]:
    """``n`` items spread evenly over ``items`` (members are stored by id, so the first few are not typical)."""
    if len(items) <= n:
        return items
    return [items[int(i)] for i in np.linspace(0, len(items) - 1, n)]


def _scaled(terms: list[tuple[str, float]]) -> list[tuple[str, str, float]]:
    """(term, weight printed, bar width in % of the largest weight) — the bar length is the weight."""
    top = max((w for _, w in terms), default=0.0) or 1.0
    return [(t, readable(w), round(100 * w / top, 1)) for t, w in terms]


def _render(**ctx: Any) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True)
    return env.get_template("report.html").render(**ctx)


def write_report(store: Store, dataset: str, out_dir: str | Path | None = None) -> Path:
    """Draw the plots for ``dataset`` and write the HTML page; returns the path of ``index.html``."""
    try:
        info = store.latest(index_name(dataset))
        _rows(store, "clusters", dataset, "summary", version=info.version)
    except DatasetError as e:
        raise FeatureError(f"no features for dataset {dataset!r} yet: run `nlpkit features build {dataset}` first") from e
    final = Path(out_dir) if out_dir else store.root / "reports" / dataset
    tmp = final.parent / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    numbers = info.manifest.get("numbers", {})
    names = label_names(store, dataset)
    try:
        shown = []
        for key, (label, meaning, kind) in _NUMBERS.items():
            if key in numbers:
                v = numbers[key]
                v = sum(v[:2]) if kind == "percent_sum2" else v
                shown.append((label, readable(v, "percent" if kind == "percent_sum2" else kind), meaning))
        counts = info.manifest.get("counts", {})
        page = _render(
            dataset=dataset, version=info.version, built=str(info.created_at)[:16].replace("T", " "),
            documents=_count(int(counts.get("documents", 0))), terms=_count(int(counts.get("terms", 0))),
            numbers=shown, figures=_figures(store, dataset, tmp, numbers, names, info.version),
            clusters=_clusters(store, dataset, names, info.version),
            labels=[(names.get(k, k), _scaled(v))
                    for k, v in sorted(_bars(store, dataset, "label", info.version).items())],
            runs=_runs(store, dataset, tmp, names))
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
