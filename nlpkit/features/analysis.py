"""The analyst's tables of one dataset, built in one call (`nlpkit features analyse DATASET`, the
``analysis-*`` flows):

- ``doc_terms_<dataset>``: analyst terms per document with time/outlet/group/label (:mod:`.docterms`);
- ``related_words``: related words of the most frequent terms (:mod:`.related`), the other terms are
  answered from ``doc_terms`` on demand;
- ``stories`` (tables ``data`` and ``members``): articles grouped into stories (:mod:`.stories`);
- ``outlet_terms``: distinguishing terms per outlet and outlet group (:mod:`.outlets`), when the
  dataset has outlets.

Each shared table keeps the other datasets' rows (``replace_rows``).
"""

from __future__ import annotations

import time
from typing import Any

import pyarrow as pa

from nlpkit.features.docterms import DocTerms, build_doc_terms
from nlpkit.features.storeio import replace_rows
from nlpkit.store import Store

__all__ = ["build_analysis", "step_doc_terms", "step_outlets", "step_related", "step_stories", "story_titles"]


def _with_dataset(table: pa.Table, dataset: str) -> pa.Table:
    return table.add_column(0, "dataset", pa.array([dataset] * table.num_rows, pa.string()))


def step_doc_terms(store: Store, dataset: str, *, max_docs: int | None = None) -> DocTerms:
    return build_doc_terms(store, dataset, max_docs=max_docs)


def step_related(store: Store, dt: DocTerms, *, top_terms: int = 300, n: int = 20, min_count: int = 3) -> dict[str, Any]:
    from nlpkit.features.related import write_related

    version, rows = write_related(store, dt, top_terms=top_terms, n=n, min_count=min_count)
    return {"related_words": version, "related_rows": rows}


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


def step_stories(store: Store, dt: DocTerms, **options: Any) -> dict[str, Any]:
    from nlpkit.features.stories import find_stories

    titles = story_titles(store, dt.dataset, dt.ids)
    found = find_stories(dt.ids, titles, dt.meta["time"], dt.meta["outlet"].tolist(), **options)
    row = {doc: i for i, doc in enumerate(dt.ids)}
    ids = list(found.story_of)
    members = pa.table({"story": pa.array([found.story_of[i] for i in ids], pa.int32()), "id": ids,
                        "outlet": [dt.meta["outlet"].iat[row[i]] for i in ids],
                        "time": pa.array(dt.meta["time"].iloc[[row[i] for i in ids]], pa.timestamp("us", tz="UTC")),
                        "title": [titles[row[i]] for i in ids]})
    version = replace_rows(store, "stories", dt.dataset, {"data": _with_dataset(found.table, dt.dataset),
                                                          "members": _with_dataset(members, dt.dataset)},
                           parameters={"threshold": options.get("threshold"), **{k: v for k, v in options.items()}})
    return {"stories": version, "story_count": found.table.num_rows, "story_candidates": found.candidates,
            "story_links": found.links}


def step_outlets(store: Store, dt: DocTerms, *, n: int = 30) -> dict[str, Any]:
    from nlpkit.features.outlets import STATISTIC, distinguishing_terms

    if not any(dt.meta["outlet"]):
        return {"outlet_terms": "skipped: no outlets"}
    parts = [distinguishing_terms(dt, by="outlet", n=n)]
    if len(set(dt.meta["outlet_group"]) - {""}) >= 2:
        parts.append(distinguishing_terms(dt, by="outlet_group", n=n))
    table = pa.concat_tables(parts)
    version = replace_rows(store, "outlet_terms", dt.dataset, {"data": _with_dataset(table, dt.dataset)},
                           parameters={"statistic": STATISTIC})
    return {"outlet_terms": version}


def build_analysis(store: Store, dataset: str, *, max_docs: int | None = None) -> dict[str, Any]:
    """Every table above for ``dataset``; returns a summary with CPU seconds per step."""
    seconds: dict[str, float] = {}
    summary: dict[str, Any] = {"dataset": dataset}
    t0 = time.process_time()
    dt = step_doc_terms(store, dataset, max_docs=max_docs)
    seconds["doc_terms"] = round(time.process_time() - t0, 2)
    summary.update(documents=len(dt.ids), terms=len(dt.terms))
    for name, step in (("related", step_related), ("stories", step_stories), ("outlets", step_outlets)):
        t0 = time.process_time()
        summary.update(step(store, dt))
        seconds[name] = round(time.process_time() - t0, 2)
    summary["cpu_seconds"] = seconds
    summary["rows"] = len(dt.ids)
    return summary
