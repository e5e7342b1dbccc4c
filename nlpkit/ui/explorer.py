"""What the web app's pages ask of the store, answered read-only and fast.

:class:`Explorer` answers each page (search, article, clusters, projection, trends, models and
the predict box) from the per-version caches of :class:`nlpkit.ui.cache.StoreCache`; whatever is
not cached is one :class:`nlpkit.store.SqlSandbox` query. Nothing here writes.

>>> ex = Explorer(Store("data"))                                # doctest: +SKIP
>>> [h.title for h in ex.search("korean_news", "반도체 수출").hits[:3]]   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from nlpkit.errors import NlpkitError
from nlpkit.features.query import index_name
from nlpkit.ui.cache import StoreCache
from nlpkit.ui.charts import scatter_svg
from nlpkit.ui.corpus import Corpus, UiError, filter_rows
from nlpkit.ui.models import Predicted, SavedModel, read_model_runs, read_runs, saved_models
from nlpkit.ui.predicted import Topics, read_topics
from nlpkit.ui.trends import Burst, Series, bursts, rankable, term_series

if TYPE_CHECKING:  # scikit-learn loads with the index, in the preload: the server answers its first page sooner
    from nlpkit.features.index import SimilarityIndex

__all__ = ["Explorer", "Hit", "SearchResult", "ArticleView"]


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    title: str
    outlet: str
    time: str
    label: str
    snippet: str
    score: float | None
    topic: str = ""  # predicted topic with its probability (scraped articles with article_topics rows)


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[Hit]
    total: int
    method: str  # how the list was ranked, said on the page
    missing: str = ""  # why a query could not be answered (no term index) and the command that fixes it


@dataclass
class ArticleView:
    hit: Hit
    text: str
    section: str
    keywords: list[tuple[str, float]] = field(default_factory=list)
    neighbours: list[Hit] = field(default_factory=list)
    cluster: int | None = None
    cluster_terms: str = ""
    topic: tuple[str, float, str] | None = None  # predicted topic name, probability, model


def _rows(table: pa.Table, rows: range, *columns: str) -> list[list[Any]]:
    """``columns`` of the contiguous ``rows`` of ``table`` as Python lists (a page shows a handful)."""
    part = table.slice(rows.start, len(rows))
    return [part.column(col).to_pylist() for col in columns]


def _fmt_time(t: Any) -> str:
    return "" if pd.isna(t) else pd.Timestamp(t).strftime("%Y-%m-%d %H:%M")


def _snippet(text: str, words: list[str], width: int = 220) -> str:
    low = text.lower()
    at = min((p for p in (low.find(w.lower()) for w in words if w) if p >= 0), default=-1)
    start = max(0, at - width // 3) if at >= 0 else 0
    s = " ".join(text[start:start + width].split())
    return ("… " if start else "") + s + (" …" if start + width < len(text) else "")


class Explorer(StoreCache):
    """Read-only answers for the web app's pages, over one store (thread-safe caches)."""

    def _hit(self, c: Corpus, r: int, words: list[str], score: float | None = None,
             topics: Topics | None = None) -> Hit:
        g = c.lists
        topic = topics.of(r) if topics is not None else None
        return Hit(g["id"][r], c.get("title", r), g["outlet"][r], _fmt_time(c.get("time", r)), g["label"][r],
                   _snippet(c.get("text", r), words), None if score is None else round(float(score), 3),
                   f"{topic[0]} ({topic[1]:.0%})" if topic else "")

    def topics(self, name: str) -> Topics | None:
        """Predicted topics of ``name``'s documents (None when ``article_topics`` has none for them)."""
        version = self._table_version("article_topics")
        if not version:
            return None
        c = self.corpus(name)
        found = self._memo(f"topics:{name}", f"{version}|{c.version}", lambda: read_topics(self.sandbox(), c))
        return found if found.values() else None

    def _filter(self, name: str, c: Corpus, filters: dict[str, Any]) -> tuple[np.ndarray, Topics | None]:
        mask = filter_rows(c, filters)
        topics = self.topics(name)
        if filters.get("topic"):
            if topics is None:
                raise UiError(f"topic={filters['topic']!r}: {name} has no predicted topics (run `nlpkit topics apply`)")
            mask &= topics.names == filters["topic"]
        return mask, topics

    # -- Articles ---------------------------------------------------------------------------------
    def search(self, name: str, query: str = "", filters: dict[str, Any] | None = None, *, limit: int = 50,
               offset: int = 0) -> SearchResult:
        """Documents matching ``filters``, ranked by TF-IDF cosine to ``query`` (newest first without one).

        A query is answered from the stored term index only (its posting lists): a dataset without one
        gets an empty list and the command that builds it, never a scan of every body.
        """
        c = self.corpus(name)
        mask, topics = self._filter(name, c, filters or {})
        query = (query or "").strip()
        if not query:
            rows = np.flatnonzero(mask)
            if c.has("time"):
                rows = rows[np.argsort(-c.frame["time"].to_numpy(dtype="datetime64[ns]")[rows].astype(np.int64),
                                       kind="stable")]
            return SearchResult([self._hit(c, int(r), [], topics=topics) for r in rows[offset:offset + limit]],
                                int(rows.size),
                                "newest first" if c.has("time") else "stored order")
        idx = self.index(name)
        if idx is None:
            return SearchResult([], 0, "no term index", missing=self.index_problem(name))
        terms = idx.analyzer(query)
        q = idx.tfidf.transform([terms])
        norm = float(np.sqrt(q.multiply(q).sum()))
        rows, scores = np.zeros(0, np.int64), np.zeros(0, np.float32)
        if norm > 0:  # cosine = dot with the L2-normalized rows; only documents holding a query term score
            dots = (q @ idx.postings).tocsr()
            rows = self._corpus_rows(name, c, idx)[dots.indices]
            scores = (dots.data / norm).astype(np.float32)
            keep = (rows >= 0) & (scores > 0)
            keep[keep] &= mask[rows[keep]]
            rows, scores = rows[keep], scores[keep]
        want = min(rows.size, offset + limit)
        top = np.argpartition(-scores, want - 1)[:want] if 0 < want < rows.size else np.arange(rows.size)
        top = top[np.lexsort((rows[top], -scores[top]))][offset:offset + limit]
        words = terms + query.split()
        out = [self._hit(c, int(rows[i]), words, float(scores[i]), topics) for i in top]
        return SearchResult(out, int(rows.size), f"TF-IDF cosine over the stored terms; query terms: {' '.join(terms)}")

    def _corpus_rows(self, name: str, c: Corpus, idx: SimilarityIndex) -> np.ndarray:
        """Corpus row of each index row (-1: the document is no longer in the dataset)."""
        version = f"{self._index(name)[0]}|{c.version}"
        return self._memo(f"rows:{name}", version,
                          lambda: np.fromiter((c.row.get(d, -1) for d in idx.ids), np.int64, len(idx.ids)))

    # -- Article ----------------------------------------------------------------------------------
    def article(self, name: str, doc_id: str, k: int = 10) -> ArticleView:
        c = self.corpus(name)
        r = c.row.get(doc_id)
        if r is None:
            raise UiError(f"no article {doc_id!r} in {name} ({len(c.row):,} documents); search for it instead")
        topics = self.topics(name)
        view = ArticleView(self._hit(c, r, [], topics=topics), c.get("text", r), c.get("section", r),
                           topic=topics.of(r) if topics is not None else None)
        kw, by_key = self.shared(name, "tfidf_keywords", key="key")
        if kw is not None and doc_id in by_key:
            part = _rows(kw, by_key[doc_id], "scope", "term", "weight")
            view.keywords = [(str(t), round(float(w), 3)) for s, t, w in zip(*part) if s == "doc"]
        nb, by_doc = self.shared(name, "similar_docs", key="doc")
        if nb is not None and doc_id in by_doc:
            neighbours, scores = _rows(nb, by_doc[doc_id][:k], "neighbour", "score")
            view.neighbours = [self._hit(c, c.row[n], [], sc) for n, sc in zip(neighbours, scores) if n in c.row]
        cl, by_id = self.shared(name, "clusters", key="id")
        if cl is not None and doc_id in by_id:
            view.cluster = int(cl.column("cluster")[by_id[doc_id][0]].as_py())
            view.cluster_terms = next((t["top_terms"] for t in self._summary(name) if t["cluster"] == view.cluster),
                                      "")
        return view

    # -- Topics and clusters ------------------------------------------------------------------------
    def clusters(self, name: str) -> list[dict[str, Any]]:
        """Each cluster's size, top terms and its most common label (empty without `features build`)."""
        try:
            version = f"{self._version(f'features_{name}')}|{self.corpus(name).version}"
        except NlpkitError:
            return []
        return self._memo(f"clusters:{name}", version, lambda: self._clusters(name))

    def _summary(self, name: str) -> list[dict[str, Any]]:
        """The clusters' summary rows (cluster, size, top_terms), largest first."""
        summary, _ = self.shared(name, "clusters", "summary")
        if summary is None:
            return []
        rows = [{"cluster": int(cl), "size": int(size), "top_terms": str(terms or "")} for cl, size, terms in
                zip(*(summary.column(col).to_pylist() for col in ("cluster", "size", "top_terms")))]
        return sorted(rows, key=lambda r: (-r["size"], r["cluster"]))

    def _clusters(self, name: str) -> list[dict[str, Any]]:
        members, _ = self.shared(name, "clusters", key="id")
        summary = self._summary(name)
        if not summary or members is None:
            return []
        c = self.corpus(name)
        rows = self._member_rows(name, c, members)
        known = rows >= 0
        labels = pd.DataFrame({"cluster": members.column("cluster").to_numpy()[known],
                               "label": np.asarray(c.lists["label"], dtype=object)[rows[known]]})
        labels = labels[labels["label"] != ""]
        top: dict[int, str] = {}
        for cl, labs in labels.groupby("cluster")["label"]:
            counts = labs.value_counts()
            top[int(cl)] = f"{counts.index[0]} ({counts.iloc[0] / counts.sum():.0%})"
        return [{**s, "label": top.get(s["cluster"], "")} for s in summary]

    def _member_rows(self, name: str, c: Corpus, members: pa.Table) -> np.ndarray:
        """Corpus row of each ``clusters`` row (-1: no longer in the dataset), once per version."""
        version = f"{self._version(f'features_{name}')}|{c.version}"
        return self._memo(f"member_rows:{name}", version, lambda: np.fromiter(
            (c.row.get(d, -1) for d in members.column("id").to_pylist()), np.int64, members.num_rows))

    def cluster_members(self, name: str, cluster: int, limit: int = 30, offset: int = 0) -> tuple[list[Hit], int]:
        """One page of a cluster's members (``limit`` from ``offset``) and how many it has."""
        c = self.corpus(name)
        members, _ = self.shared(name, "clusters", key="id")
        if members is None:
            return [], 0
        rows = self._member_rows(name, c, members)
        rows = rows[(members.column("cluster").to_numpy() == int(cluster)) & (rows >= 0)]
        return [self._hit(c, int(r), []) for r in rows[offset:offset + limit]], int(rows.size)

    def projection(self, name: str, method: str = "pca", max_points: int = 2000, seed: int = 0) -> dict[str, Any]:
        """Up to ``max_points`` projected documents (a seeded sample) and the variance the projection keeps."""
        if method not in ("pca", "lda"):
            raise UiError(f"projection {method!r}: use pca or lda")
        try:
            version = f"{self._version(f'features_{name}')}|{self.corpus(name).version}"
        except NlpkitError:
            version = ""
        return self._memo(f"projection:{name}:{method}:{max_points}:{seed}", version,
                          lambda: self._projection(name, method, max_points, seed))

    def scatter(self, name: str, method: str = "pca") -> str:
        """The projection's SVG scatter (2,000 linked points: drawn once per version, not per request)."""
        proj = self.projection(name, method)
        version = self._memos[f"projection:{name}:{method}:2000:0"][0]
        axis = "linear discriminant" if method == "lda" else "principal component"

        def draw() -> str:
            legend = [(int(t["cluster"]), " ".join(str(t["top_terms"]).replace(",", " ").split()[:3]))
                      for t in self.clusters(name)]
            return scatter_svg(proj["points"], name, axis=axis, legend=legend)
        return self._memo(f"scatter:{name}:{method}", version, draw)

    def _projection(self, name: str, method: str, max_points: int, seed: int) -> dict[str, Any]:
        proj, by_method = self.shared(name, "projections", key="method")
        if proj is None or method not in by_method:
            return {"points": [], "total": 0, "note": f"no {method} projection: run `nlpkit features build {name}`"}
        rows = by_method[method]
        total = len(rows)
        if total > max_points:
            rows = np.sort(np.random.default_rng(seed).choice(rows, max_points, replace=False))
        part = proj.take(pa.array(np.asarray(rows, dtype=np.int64)))
        c = self.corpus(name)
        points = [{"id": d, "x": float(x), "y": float(y), "cluster": int(cl), "title": c.get("title", c.row[d]),
                   "label": c.get("label", c.row[d])}
                  for d, x, y, cl in zip(*(part.column(col).to_pylist() for col in ("id", "x", "y", "cluster")))
                  if d in c.row]
        return {"points": points, "total": total, "note": self._variance_note(name, method)}

    def _variance_note(self, name: str, method: str) -> str:
        try:
            numbers = self.store.latest(index_name(name)).manifest.get("numbers", {})
        except NlpkitError:
            return ""
        if method == "pca" and "pca_explained_variance_2d" in numbers:
            v = numbers["pca_explained_variance_2d"]
            return (f"The first 2 principal components keep {v:.1%} of the TF-IDF variance: distances on this plot "
                    "are a rough sketch; trust the clusters and neighbours (computed on all terms) more.")
        if method == "lda" and "lda_explained_variance" in numbers:
            v = sum(numbers["lda_explained_variance"][:2])
            return (f"LDA's 2 axes hold {v:.1%} of the between-label variance; they were fitted on the labels, "
                    "so labels separate here by construction.")
        return ""

    # -- Trends -------------------------------------------------------------------------------------
    def _aligned(self, name: str) -> tuple[Corpus, SimilarityIndex]:
        c = self.corpus(name)
        if not c.has("time"):
            raise UiError(f"dataset {name!r} has no publication times, so it has no trends; pick one with dates "
                          "(the scraped 'articles')")
        idx = self.index(name)
        if idx is None:
            raise UiError(f"trends need the term index: run `nlpkit features build {name}`")
        return c, idx

    def trend(self, name: str, query: str, period: str = "auto", by_outlet: bool = True) -> Series:
        c, idx = self._aligned(name)
        terms = [t for t in idx.analyzer(query) if t in idx.tfidf.vocabulary_]
        cols = [idx.tfidf.vocabulary_[t] for t in terms]
        rows = self._corpus_rows(name, c, idx)
        keep = rows >= 0
        times = c.frame["time"].iloc[rows[keep]].reset_index(drop=True)
        groups = c.frame["outlet"].iloc[rows[keep]].reset_index(drop=True) if by_outlet else None
        return term_series(idx.matrix[np.flatnonzero(keep)], cols, terms, times, groups, period)  # type: ignore[arg-type]

    def bursts(self, name: str, days: int = 7, top: int = 20) -> tuple[list[Burst], str]:
        c, idx = self._aligned(name)
        version = f"{self._index(name)[0]}|{c.version}"
        return self._memo(f"bursts:{name}:{days}:{top}", version, lambda: self._bursts(c, idx, days, top))

    def _bursts(self, c: Corpus, idx: SimilarityIndex, days: int, top: int) -> tuple[list[Burst], str]:
        rows = np.asarray([c.row.get(d, -1) for d in idx.ids])
        keep = rows >= 0
        times = c.frame["time"].iloc[rows[keep]].reset_index(drop=True)
        vocab = [str(t) for t in idx.tfidf.get_feature_names_out()]
        return bursts(idx.matrix[np.flatnonzero(keep)], vocab, times, days=days, top=top, keep_term=rankable)

    def schema(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Each latest table's SQL name with its columns and DuckDB types (for the Schema page), once per listing."""
        def read() -> list[tuple[str, list[tuple[str, str]]]]:
            sandbox, out = self.sandbox(), []
            for name in self.tables():
                try:
                    _, rows = sandbox.query(f'DESCRIBE "{name}"')
                except NlpkitError as e:  # a damaged table is listed with why, the rest still shows
                    out.append((name, [("(unreadable)", str(e)[:200])]))
                    continue
                out.append((name, [(str(r[0]), str(r[1])) for r in rows]))
            return out
        return list(self._memo("schema", self._listing(), read))

    # -- Models and runs ----------------------------------------------------------------------------
    def model_runs(self, limit: int = 5000) -> list[dict[str, Any]]:
        """One entry per model from the newest ``limit`` evaluations (RNNs write two per epoch: 200 dropped models)."""
        version = self._table_version("model_runs")
        if not version:
            return []
        return self._memo(f"model_runs:{limit}", version,
                          lambda: read_model_runs(self.sandbox(), self.store, self.datasets(), limit))

    def runs(self, limit: int = 200) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The flows' run history, newest first (``runs`` append table)."""
        version = self._table_version("runs")
        if not version:
            return [], []
        return self._memo(f"runs:{limit}", version, lambda: read_runs(self.sandbox(), limit))

    def saved_models(self) -> list[SavedModel]:
        """Models the predict box offers (baselines and RNN classifiers), listed once per store change."""
        models = self.store.root / "models"  # where RNN classifiers are saved by default
        stamp = str(models.stat().st_mtime_ns) if isinstance(models, Path) and models.is_dir() else ""
        key = "|".join([self._listing(), self._table_version("model_runs"), stamp])
        return self._memo("saved_models", key, lambda: saved_models(self.store, self.model_runs(), self.sandbox()))

    def predict(self, key: str, text: str) -> Predicted:
        """The label name and probability the saved model ``key`` gives ``text``."""
        return self._predictor.predict(self.saved_models(), key, text)

    def warm_models(self) -> None:
        self._predictor.warm(self.saved_models())
