"""Re-run extraction over the archived raw pages, without fetching anything.

Use after improving a site rule or the extractors: every stored article is extracted again from
``news_raw/`` and the articles table is replaced in one journaled swap (see ``newsstore``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from nlpkit.news.newsstore import ARTICLE_SCHEMA, NewsStore
from nlpkit.news.sources import NewsSettings, SourceSpec
from nlpkit.news.worker import extract_page
from nlpkit.store import Store

__all__ = ["ReextractReport", "reextract"]


@dataclass
class ReextractReport:
    """Counts of one re-extraction."""

    articles: int = 0
    changed: int = 0
    kept_old: int = 0
    extractors: Counter = field(default_factory=Counter)


def reextract(store: Store, news: NewsSettings, *, sources: list[str] | None = None,
              progress: Callable[[int, int], None] | None = None) -> ReextractReport:
    """Extract every stored article (of ``sources``, default all) again from its raw page.

    An article whose page no longer yields one keeps its old row (counted in ``kept_old``).
    """
    ns = NewsStore(store)
    specs = {s.name: s for s in news.sources}
    report = ReextractReport()
    with ns.lock():
        table = ns.articles()
        rows = table.to_pylist()
        out: list[dict] = []
        seen: set[str] = set()
        hashes: dict[str, str] = {}
        for i, row in enumerate(rows):
            if sources is None or row["source"] in sources:
                row = _again(ns, row, specs.get(row["source"]), report)
            if progress is not None:
                progress(i + 1, len(rows))
            if row["canonical_url"] in seen:
                continue
            seen.add(row["canonical_url"])
            first = hashes.setdefault(row["content_hash"], row["canonical_url"])
            row["duplicate_of"] = first if first != row["canonical_url"] else None
            out.append(row)
        report.articles = len(out)
        if rows:
            ns.replace_articles(pa.Table.from_pylist(out, schema=ARTICLE_SCHEMA))
    return report


def _again(ns: NewsStore, row: dict, spec: SourceSpec | None, report: ReextractReport) -> dict:
    body = ns.read_raw(row["raw_sha256"])
    params = {"rules": spec.rules.model_dump() if spec and spec.rules else None,
              "section": spec.section if spec else None,
              "timezone": spec.timezone if spec else "Asia/Seoul",
              "language": spec.language if spec else "auto"}
    result = extract_page(body, f"text/html; charset={row['encoding']}", row["url"], params)
    if not result["ok"]:
        report.kept_old += 1
        return row
    art = result["article"]
    new = dict(row)
    new.update({
        "canonical_url": art.canonical_url, "title": art.title, "body": art.body, "authors": list(art.authors),
        "published_at": art.published, "published_local": art.published.isoformat() if art.published else None,
        "language": art.language, "section": art.section, "content_hash": art.content_hash,
        "encoding": result["encoding"], "extractor": art.extractor,
    })
    report.extractors[art.extractor] += 1
    if new["body"] != row["body"] or new["title"] != row["title"]:
        report.changed += 1
    return new
