"""The analyst's pages (related words, stories, outlets), registered on the app by :func:`analyst_routes`.

Each page reads the tables `nlpkit features analyse DATASET` (the ``analysis-*`` flows) stored; the
document x term incidence is loaded once per stored version and kept (:class:`DocTermsCache`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nlpkit.features.docterms import DocTerms, doc_terms_name, load_doc_terms
from nlpkit.store import Store
from nlpkit.ui.corpus import UiError

__all__ = ["ANALYST_PAGES", "DocTermsCache", "analysed", "analyst_routes"]

#: (path, name) of each page, for the navigation bar.
ANALYST_PAGES = [("/related", "Related words"), ("/stories", "Stories"), ("/outlets", "Outlets")]


def analysed(store: Store) -> list[str]:
    """Datasets with analyst tables, korean_press first."""
    names = sorted(d.removeprefix("doc_terms_") for d in store.datasets() if d.startswith("doc_terms_"))
    return sorted(names, key=lambda d: d != "korean_press")


class DocTermsCache:
    """The latest ``doc_terms_<dataset>`` of each dataset, reloaded only when a new version appears."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, DocTerms]] = {}

    def get(self, dataset: str) -> DocTerms:
        known = analysed(self.store)
        if dataset not in known:
            raise UiError(f"no related words, stories or outlet tables for {dataset!r}: run `nlpkit features analyse "
                          f"{dataset}` (analysed: {', '.join(known) or 'none'})")
        version = self.store.latest(doc_terms_name(dataset)).version
        with self._lock:
            hit = self._cache.get(dataset)
            if hit is None or hit[0] != version:
                dt = load_doc_terms(self.store, dataset)
                dt.csc  # noqa: B018  (built once here, not on the first query)
                self._cache[dataset] = hit = (version, dt)
        return hit[1]


def pick_dataset(request: Request, store: Store) -> str:
    wanted = request.query_params.get("dataset")
    known = analysed(store)
    return wanted if wanted else (known[0] if known else "")


def analyst_routes(store: Store, page: Callable[..., Any], guarded: Callable[..., Any]) -> list[Route]:
    """Routes of the three pages; ``page``/``guarded`` are the app's renderer and error guard."""
    from nlpkit.ui.outlets import outlets_page
    from nlpkit.ui.related import related_page
    from nlpkit.ui.stories import stories_page

    cache = DocTermsCache(store)

    def bind(view: Callable[..., dict[str, Any]], template: str, title: str) -> Callable[[Request], Response]:
        def render(request: Request) -> Response:
            dataset = pick_dataset(request, store)
            return page(request, template, title, dataset=dataset, **view(request, store, cache, dataset))
        return guarded(render, template, title)

    return [Route("/related", bind(related_page, "related.html", "Related words")),
            Route("/stories", bind(stories_page, "stories.html", "Stories")),
            Route("/outlets", bind(outlets_page, "outlets.html", "Outlets"))]


#: What each template needs when its page failed (shown with the error line only).
EMPTY: dict[str, dict[str, Any]] = {
    "related.html": {"term": "", "rows": [], "graph": "", "filters": {}, "summary": "", "statistic": ""},
    "stories.html": {"stories": [], "items": {}, "filters": {}, "statistic": ""},
    "outlets.html": {"term": "", "by": "outlet", "groups": [], "chart": "", "shares": [], "filters": {},
                     "statistic": ""},
}
