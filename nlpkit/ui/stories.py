"""The stories page: the top stories of a period, the outlets that covered each and when."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from nlpkit.features.stories import DEFAULT_THRESHOLD
from nlpkit.features.storyview import read_stories
from nlpkit.store import Store

__all__ = ["stories_page"]

PER_PAGE = 20


def stories_page(request: Request, store: Store, cache: Any, dataset: str) -> dict[str, Any]:
    p = request.query_params
    filters = {k: p.get(k, "") for k in ("since", "until") if p.get(k)}
    try:
        page_no = max(1, int(p.get("page", "1")))
    except ValueError:
        page_no = 1
    stories, items = read_stories(store, dataset, n=PER_PAGE, offset=(page_no - 1) * PER_PAGE, **filters)
    return {"stories": stories, "items": items, "filters": filters, "page_no": page_no, "per_page": PER_PAGE,
            "statistic": (f"articles whose headlines' character-bigram Jaccard is at least {DEFAULT_THRESHOLD} "
                          "(MinHash LSH candidates, exact check), published at most 48 h apart; a story spans at "
                          "most 96 h; ranked by outlets, then articles")}
