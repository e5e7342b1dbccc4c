"""`nlpkit features build DATASET`: terms -> TF-IDF -> similar -> keywords -> projections -> clusters.

Each step is a function the Prefect flow calls as a task; :func:`build_features` runs them in
order for the CLI. Outputs: one version of ``features_<dataset>`` holding all of them, committed at
once (a kill leaves the previous version whole), each a side table with a ``dataset`` column and
queried through a cross-dataset SQL view of the same name (:mod:`nlpkit.store.views`):

- ``similar_docs``: ``dataset, doc, neighbour, score, rank`` (exact top-k cosine, no NaN);
- ``tfidf_keywords``: ``dataset, scope (doc|label|cluster), key, term, weight, rank``;
- ``projections``: ``dataset, id, method (pca|lda), x, y, label, cluster``;
- ``clusters``: ``dataset, id, cluster, k``; ``clusters_summary`` (sizes, top terms) and
  ``clusters_scores`` (silhouette and inertia per k);
- ``features_<dataset>`` itself (``data``): per-document rows plus the persisted similarity index
  (query path), the 50-D PCA features and the projection numbers in its manifest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from nlpkit.errors import FeatureError
from nlpkit.features.clusters import ClusterResult, choose_k
from nlpkit.features.index import SimilarityIndex
from nlpkit.features.query import index_name, index_path
from nlpkit.features.keywords import doc_keywords, group_keywords
from nlpkit.features.projections import LdaResult, PcaResult, lda_project, pca_project, separation
from nlpkit.features.similarity import Neighbours, topk_cosine
from nlpkit.features.storeio import Corpus, read_corpus, stored_terms
from nlpkit.features.tfidf import TokenTfidf
from nlpkit.store import Store
from nlpkit.store.views import FEATURE_TABLES
from nlpkit.text.lang import detect_language
from nlpkit.tokenize.spec import TermSpec, default_spec

__all__ = ["BuildOptions", "BuildResult", "Fitted", "build_features", "step_terms", "step_tfidf",
           "step_similarity", "step_keywords", "step_projections", "step_clusters", "unit_tables", "write_outputs",
           "index_name", "load_index"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]  # (step, done, total)


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """Everything `features build` can be told (defaults suit news, IMDB, NSMC)."""

    tokenizer: str | None = None   # None: kiwi for Korean text, english otherwise
    user_dicts: tuple[str, ...] | None = None  # None: the language default (Korean: dictionaries/ko/news.tsv)
    stopwords: str | None = ""     # "": the language default (dictionaries/<lang>/stopwords.txt); None: none
    spec: TermSpec | None = None   # a complete spec overrides tokenizer/user_dicts/stopwords
    k: int = 10                    # neighbours per document
    keywords: int = 10             # top terms per document / label / cluster
    min_df: int | float = 2
    max_df: float = 0.5
    ngram_max: int = 1
    max_features: int | None = None
    pca_components: int = 50
    lda: bool | None = None        # None: when the dataset has labels; True: required (error without labels)
    k_values: tuple[int, ...] = tuple(range(2, 13))
    engine: str = "auto"
    n_threads: int = 2
    max_docs: int | None = None
    seed: int = 13


@dataclass
class Fitted:
    """What the steps hand to each other."""

    corpus: Corpus
    spec: TermSpec
    terms: list[list[str]] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    tokenized_now: int = 0
    tfidf: TokenTfidf | None = None
    X: sp.csr_matrix | None = None
    neighbours: Neighbours | None = None
    keywords: pa.Table | None = None
    pca: PcaResult | None = None
    lda: LdaResult | None = None
    numbers: dict[str, Any] = field(default_factory=dict)
    clusters: ClusterResult | None = None
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BuildResult:
    dataset: str
    documents: int
    terms: int
    tokenized_now: int
    chosen_k: int
    numbers: dict[str, Any]
    seconds: dict[str, float]
    versions: dict[str, str]

    @property
    def rows(self) -> int:
        return self.documents


def _timed(f: Fitted, step: str, t0: float) -> None:
    f.seconds[step] = round(time.perf_counter() - t0, 3)
    log.info("features %s: %s done in %.1f s", f.corpus.dataset, step, f.seconds[step])


def step_terms(store: Store, dataset: str, options: BuildOptions, progress: Progress | None = None) -> Fitted:
    """Read the corpus and its stored terms, tokenizing only documents not seen before."""
    t0 = time.perf_counter()
    if progress:
        progress("read", 0, 1)
    corpus = read_corpus(store, dataset, max_docs=options.max_docs)
    if progress:
        progress("read", 1, 1)
    spec = options.spec or default_spec(detect_language("\n".join(corpus.texts[:200])), options.tokenizer,
                                        user_dicts=options.user_dicts, stopwords=options.stopwords)
    f = Fitted(corpus, spec)
    tick = (lambda n: progress("tokenize", n, len(corpus.ids))) if progress else None
    f.terms, f.tokenized_now, f.provenance = stored_terms(store, corpus, spec, progress=tick)
    _timed(f, "terms", t0)
    return f


def step_tfidf(f: Fitted, options: BuildOptions) -> Fitted:
    t0 = time.perf_counter()
    f.tfidf = TokenTfidf(ngram_range=(1, options.ngram_max), min_df=options.min_df, max_df=options.max_df,
                         max_features=options.max_features, sublinear_tf=True)
    n = len(f.terms)
    min_df = options.min_df if isinstance(options.min_df, float) or n >= 2 * int(options.min_df) else 1
    f.tfidf.set_params(min_df=min_df, max_df=options.max_df if n >= 20 else 1.0)
    f.X = f.tfidf.fit_transform(f.terms)
    _timed(f, "tfidf", t0)
    return f


def step_similarity(f: Fitted, options: BuildOptions, progress: Progress | None = None) -> Fitted:
    t0 = time.perf_counter()
    assert f.X is not None
    tick = (lambda n: progress("similar", n, f.X.shape[0])) if progress else None
    f.neighbours = topk_cosine(f.X, options.k, engine=options.engine, n_threads=options.n_threads, progress=tick)  # type: ignore[arg-type]
    _timed(f, "similar", t0)
    return f


def step_keywords(f: Fitted, options: BuildOptions) -> Fitted:
    t0 = time.perf_counter()
    assert f.X is not None and f.tfidf is not None
    names = f.tfidf.get_feature_names_out()
    parts = [doc_keywords(f.X, names, f.corpus.ids, options.keywords)]
    if f.corpus.labels is not None:
        mask = np.asarray([lab != "" for lab in f.corpus.labels])
        parts.append(group_keywords(f.X[mask], names, np.asarray(f.corpus.labels, dtype=object)[mask], "label",
                                    options.keywords))
    f.keywords = pa.concat_tables(parts)
    _timed(f, "keywords", t0)
    return f


def step_projections(f: Fitted, options: BuildOptions) -> Fitted:
    """PCA always; LDA when the dataset has labels, scored against PCA on held-out documents."""
    t0 = time.perf_counter()
    assert f.X is not None
    f.pca = pca_project(f.X, options.pca_components, seed=options.seed)
    f.numbers["pca_explained_variance_2d"] = float(f.pca.explained_variance_ratio[:2].sum())
    f.numbers["pca_explained_variance"] = float(f.pca.explained_variance_ratio.sum())
    labels = f.corpus.labels
    if options.lda and (labels is None or len({lab for lab in labels if lab}) < 2):
        lda_project(f.pca.features, labels)  # raises the clear "LDA needs labels" error
    if options.lda is not False and labels is not None and len({lab for lab in labels if lab}) >= 2:
        lab = np.asarray(labels, dtype=object)
        rng = np.random.default_rng(options.seed)
        held = rng.random(lab.size) < 0.2
        train_labels = np.where(held, "", lab)  # LDA never sees the held-out labels
        try:
            f.lda = lda_project(f.pca.features, train_labels.tolist())
        except FeatureError as e:  # too few labelled documents: PCA only, and say why
            f.numbers["lda_skipped"] = str(e)
            log.warning("features %s: LDA skipped: %s", f.corpus.dataset, e)
        if f.lda is not None:
            test = held & (lab != "")
            f.numbers["lda_explained_variance"] = f.lda.explained_variance_ratio.round(4).tolist()
            f.numbers["lda_train_accuracy"] = f.lda.train_accuracy
            for key, coords in (("separation_heldout_pca_2d", f.pca.features[test, :2]),
                                ("separation_heldout_lda", f.lda.coords[test])):
                value = separation(coords, lab[test])
                f.numbers[key] = None if np.isnan(value) else value
    _timed(f, "projections", t0)
    return f


def step_clusters(f: Fitted, options: BuildOptions) -> Fitted:
    t0 = time.perf_counter()
    assert f.pca is not None and f.X is not None and f.tfidf is not None
    f.clusters = choose_k(f.pca.features, options.k_values, seed=options.seed)
    kw = group_keywords(f.X, f.tfidf.get_feature_names_out(), f.clusters.labels, "cluster", options.keywords)
    f.keywords = pa.concat_tables([f.keywords, kw]) if f.keywords is not None else kw
    _timed(f, "clusters", t0)
    return f


def _with_dataset(table: pa.Table, dataset: str) -> pa.Table:
    return table.add_column(0, "dataset", pa.array([dataset] * table.num_rows, pa.string()))


def unit_tables(f: Fitted) -> dict[str, pa.Table]:
    """Every feature table of one build (each with a ``dataset`` column), by its side-table name."""
    assert f.neighbours is not None and f.keywords is not None and f.pca is not None and f.clusters is not None
    ds, ids = f.corpus.dataset, f.corpus.ids
    labels = f.corpus.labels or [""] * len(ids)
    proj = [pa.table({"id": ids, "method": ["pca"] * len(ids), "x": f.pca.features[:, 0],
                      "y": f.pca.features[:, 1], "label": labels, "cluster": f.clusters.labels})]
    if f.lda is not None:
        c = f.lda.coords
        proj.append(pa.table({"id": ids, "method": ["lda"] * len(ids), "x": c[:, 0],
                              "y": c[:, 1] if c.shape[1] > 1 else np.zeros(len(ids), np.float32),
                              "label": labels, "cluster": f.clusters.labels}))
    cl = f.clusters
    kw = f.keywords.filter(pa.compute.equal(f.keywords.column("scope"), "cluster"))
    tops: dict[str, list[str]] = {}
    for key, term in zip(kw.column("key").to_pylist(), kw.column("term").to_pylist()):
        tops.setdefault(key, []).append(term)
    summary = pa.table({"cluster": np.arange(cl.k, dtype=np.int32), "size": cl.sizes.astype(np.int64),
                        "top_terms": [", ".join(tops.get(str(c), [])) for c in range(cl.k)]})
    scores = pa.table({"k": [int(s["k"]) for s in cl.scores], "silhouette": [s["silhouette"] for s in cl.scores],
                       "inertia": [s["inertia"] for s in cl.scores], "chosen": [int(s["k"]) == cl.k for s in cl.scores]})
    tables = {
        "similar_docs": f.neighbours.to_table(ids),
        "tfidf_keywords": f.keywords,
        "projections": pa.concat_tables(proj),
        "clusters": pa.table({"id": ids, "cluster": cl.labels, "k": np.full(len(ids), cl.k, np.int32)}),
        "clusters_summary": summary,
        "clusters_scores": scores,
    }
    assert tuple(tables) == FEATURE_TABLES
    return {name: _with_dataset(t, ds) for name, t in tables.items()}


def write_outputs(store: Store, f: Fitted, options: BuildOptions) -> BuildResult:
    """Write the whole unit as one version of ``features_<dataset>``: its per-document rows, index
    files and every feature table as side tables, all made visible by its one ``data`` commit.

    Nothing here reads or rewrites another dataset's rows; the cross-dataset names (``similar_docs``
    ...) are SQL views over every dataset's pinned tables (:mod:`nlpkit.store.views`).
    """
    t0 = time.perf_counter()
    assert f.X is not None and f.tfidf is not None and f.neighbours is not None and f.pca is not None
    assert f.clusters is not None and f.keywords is not None
    ds, ids = f.corpus.dataset, f.corpus.ids
    opts = {k: v for k, v in asdict(options).items() if k != "spec"}
    params = {"options": opts, "spec": f.spec.to_dict(), "spec_fingerprint": f.spec.fingerprint,
              "dataset": ds, "dataset_version": f.corpus.version, **f.provenance}
    nnz = np.diff(f.X.indptr)
    tables = unit_tables(f)
    with store.write_version(index_name(ds), parameters=params, source=f"{ds} {f.corpus.version}") as w:
        w.write(pa.table({"id": ids, "row": np.arange(len(ids), dtype=np.int64), "terms": nnz.astype(np.int32)}))
        for name, table in tables.items():
            w.write(table, name)
        SimilarityIndex(f.tfidf, f.X, ids, f.spec).save(w.dir / "index")
        np.save(w.dir / "pca.npy", f.pca.features, allow_pickle=False)
        w.counts.update({"documents": len(ids), "terms": int(f.X.shape[1]), "empty_documents": int((nnz == 0).sum()),
                         "tokenized_now": f.tokenized_now, **{n: t.num_rows for n, t in tables.items()}})
        w.extra["numbers"] = {**f.numbers, "chosen_k": f.clusters.k,
                              "pca_explained_variance_ratio": f.pca.explained_variance_ratio.round(5).tolist()}
    versions = {index_name(ds): store.latest(index_name(ds)).version}
    _timed(f, "write", t0)
    return BuildResult(ds, len(ids), int(f.X.shape[1]), f.tokenized_now, f.clusters.k, dict(f.numbers),
                       dict(f.seconds), versions)


def build_features(store: Store, dataset: str, options: BuildOptions = BuildOptions(),
                   progress: Progress | None = None) -> BuildResult:
    """Run every step for ``dataset`` and write the outputs (see the module docstring)."""
    if not isinstance(options.k, int) or options.k < 1:
        raise FeatureError(f"--k must be a positive integer; got {options.k!r}")
    f = step_terms(store, dataset, options, progress)
    _stage(progress, "tfidf", step_tfidf, f, options)
    step_similarity(f, options, progress)
    for name, step in (("keywords", step_keywords), ("projections", step_projections), ("clusters", step_clusters)):
        _stage(progress, name, step, f, options)
    return _stage(progress, "write", write_outputs, store, f, options)


def _stage(progress: Progress | None, name: str, step: Callable[..., Any], *args: Any) -> Any:
    """Run one uncounted step, reporting it as a 1-unit stage (started, then done) to ``progress``."""
    if progress:
        progress(name, 0, 1)
    out = step(*args)
    if progress:
        progress(name, 1, 1)
    return out


def load_index(store: Store, dataset: str) -> SimilarityIndex:
    """The persisted similarity index of ``dataset``'s latest features build."""
    return SimilarityIndex.load(index_path(store, dataset))
