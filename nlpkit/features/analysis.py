"""The analyst's tables of one dataset, built in one call (`nlpkit features analyse DATASET`, the
``analysis-*`` flows), each dataset's in its own store datasets (no table shared between datasets, so
one dataset's rebuild never touches another's rows):

- ``doc_terms_<dataset>``: analyst terms per document with time/outlet/group/label (:mod:`.docterms`);
- ``analysis_<dataset>``, one version written at once (a killed build leaves the last one whole): its main
  table lists the others (name, rows, statistic), which are
  ``related_words`` (related words of the most frequent terms, :mod:`.related`; other terms are
  answered from ``doc_terms`` on demand), ``stories`` and ``story_members`` (:mod:`.stories`) and,
  when the dataset has outlets, ``outlet_terms`` (:mod:`.outlets`).
"""

from __future__ import annotations

import time
from typing import Any

import pyarrow as pa

from nlpkit.features.docterms import DocTerms, build_doc_terms
from nlpkit.store import Store

__all__ = ["analysis_name", "build_analysis", "step_outlets", "step_related", "step_stories", "story_titles"]


def analysis_name(dataset: str) -> str:
    return f"analysis_{dataset}"[:63]


def step_related(store: Store, dt: DocTerms, *, top_terms: int = 300, n: int = 20, min_count: int = 3) -> pa.Table:
    from nlpkit.features.related import related_table

    return related_table(dt, top_terms=top_terms, n=n, min_count=min_count)


def story_titles(store: Store, dataset: str, ids: list[str]) -> list[str]:
    """The headline of each document: ``title`` when the dataset has one, else the text's first line."""
    if dataset == "articles" and "articles" not in store.datasets():
        t = store.read_appended("articles", columns=["canonical_url", "title", "body"])
        got = {u: (ti or (b or "").split("\n", 1)[0]) for u, ti, b in zip(*(t.column(c).to_pylist() for c in t.column_names))}
    else:
        cols = [c for c in ("id", "title", "text") if c in store.columns(dataset)]
        t = store.read(dataset, columns=cols)
        titles = t.column("title").to_pylist() if "title" in cols else [None] * t.num_rows
        texts = t.column("text").to_pylist() if "text" in cols else [""] * t.num_rows
        got = {str(i): (ti or (tx or "").strip().split("\n", 1)[0][:200])
               for i, ti, tx in zip(t.column("id").to_pylist(), titles, texts)}
    return [got.get(i, "") for i in ids]


def step_stories(store: Store, dt: DocTerms, **options: Any) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    """``(stories, story_members, counts)`` of the dataset's documents."""
    from nlpkit.features.stories import find_stories

    titles = story_titles(store, dt.dataset, dt.ids)
    found = find_stories(dt.ids, titles, dt.meta["time"], dt.meta["outlet"].tolist(), **options)
    row = {doc: i for i, doc in enumerate(dt.ids)}
    ids = list(found.story_of)
    members = pa.table({"story": pa.array([found.story_of[i] for i in ids], pa.int32()), "id": pa.array(ids, pa.string()),
                        "outlet": pa.array([dt.meta["outlet"].iat[row[i]] for i in ids], pa.string()),
                        "time": pa.array(dt.meta["time"].iloc[[row[i] for i in ids]], pa.timestamp("us", tz="UTC")),
                        "title": pa.array([titles[row[i]] for i in ids], pa.string())})
    return found.table, members, {"stories": found.table.num_rows, "story_candidates": found.candidates,
                                  "story_links": found.links}


def step_outlets(store: Store, dt: DocTerms, *, n: int = 30) -> pa.Table | None:
    """Distinguishing terms per outlet (and per outlet group when there are two or more); None without outlets."""
    from nlpkit.features.outlets import distinguishing_terms

    if len(set(dt.meta["outlet"]) - {""}) < 2:
        return None
    parts = [distinguishing_terms(dt, by="outlet", n=n)]
    if len(set(dt.meta["outlet_group"]) - {""}) >= 2:
        parts.append(distinguishing_terms(dt, by="outlet_group", n=n))
    return pa.concat_tables(parts)


def build_analysis(store: Store, dataset: str, *, max_docs: int | None = None) -> dict[str, Any]:
    """``doc_terms_<dataset>`` then ``analysis_<dataset>``; returns a summary with CPU seconds per step."""
    from nlpkit.features.outlets import STATISTIC as OUTLET_STATISTIC
    from nlpkit.features.related import STATISTIC as RELATED_STATISTIC
    from nlpkit.features.stories import DEFAULT_THRESHOLD

    seconds: dict[str, float] = {}
    t0 = time.process_time()
    dt = build_doc_terms(store, dataset, max_docs=max_docs)
    seconds["doc_terms"] = round(time.process_time() - t0, 2)
    t0 = time.process_time()
    related = step_related(store, dt)
    seconds["related"] = round(time.process_time() - t0, 2)
    t0 = time.process_time()
    stories, members, story_counts = step_stories(store, dt)
    seconds["stories"] = round(time.process_time() - t0, 2)
    t0 = time.process_time()
    outlet_terms = step_outlets(store, dt)
    seconds["outlets"] = round(time.process_time() - t0, 2)
    name = analysis_name(dataset)
    params = {"dataset": dataset, "doc_terms_version": store.latest(f"doc_terms_{dataset}"[:63]).version,
              "related_statistic": RELATED_STATISTIC, "story_threshold": DEFAULT_THRESHOLD,
              "outlet_statistic": OUTLET_STATISTIC}
    tables = {"related_words": (related.num_rows, RELATED_STATISTIC),
              "stories": (stories.num_rows, f"headline character-bigram Jaccard >= {DEFAULT_THRESHOLD}, MinHash LSH"),
              "story_members": (members.num_rows, "one row per article of a story"),
              "outlet_terms": (outlet_terms.num_rows if outlet_terms is not None else 0, OUTLET_STATISTIC)}
    contents = pa.table({"table": list(tables), "rows": [v[0] for v in tables.values()],
                         "statistic": [v[1] for v in tables.values()]})
    with store.write_version(name, parameters=params, source=f"nlpkit features analyse {dataset}") as w:
        w.write(contents)  # the main table: what the version holds
        w.write(related, "related_words")
        w.write(stories, "stories")
        w.write(members, "story_members")
        if outlet_terms is not None:
            w.write(outlet_terms, "outlet_terms")
        w.counts.update({"related_words": related.num_rows, **story_counts,
                         "outlet_terms": outlet_terms.num_rows if outlet_terms is not None else 0})
    return {"dataset": dataset, "documents": len(dt.ids), "terms": len(dt.terms), "rows": len(dt.ids),
            "analysis": store.latest(name).version, "related_rows": related.num_rows, **story_counts,
            "outlet_terms": outlet_terms.num_rows if outlet_terms is not None else "skipped: fewer than 2 outlets",
            "cpu_seconds": seconds}
