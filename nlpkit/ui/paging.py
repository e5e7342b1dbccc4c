"""Pages of a long list, with the page number in the URL (``?page=3``) so that any page is a link.

>>> p = pager({"dataset": "imdb", "q": "film", "page": "2"}, "/articles", total=120, per_page=50)
>>> (p.page, p.pages, p.offset, p.next_url)
(2, 3, 50, '/articles?dataset=imdb&q=film&page=3')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from nlpkit.ui.guards import int_param

__all__ = ["PER_PAGE", "Pager", "page_number", "pager"]

PER_PAGE = 50
_MAX_PAGE = 1_000_000


def page_number(params: Mapping[str, str], key: str = "page") -> int:
    """The 1-based page ``params[key]`` asks for (1 when absent); a bad value is a one-line ParamError (400)."""
    return int_param(params, key, 1, lo=1, hi=_MAX_PAGE)  # '³' or '1e9' is a one-line 400, never a 500


@dataclass(frozen=True, slots=True)
class Pager:
    """Where a page sits in its list, and the links to the pages around it."""

    page: int
    pages: int
    total: int
    offset: int
    per_page: int
    prev_url: str = ""
    next_url: str = ""
    numbers: list[tuple[int, str]] = field(default_factory=list)  # (page, link); 0 marks a gap "…"

    @property
    def first(self) -> int:
        """1-based position of the page's first row (0 for an empty list)."""
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.per_page, self.total)


def pager(params: Mapping[str, str], path: str, total: int, per_page: int = PER_PAGE, key: str = "page") -> Pager:
    """The pager of ``path`` for a list of ``total`` rows; every other query parameter is kept in the links.

    A page past the end shows the last page (a link to page 9 of a list that shrank still answers).
    """
    pages = max(1, -(-int(total) // per_page))
    page = min(page_number(params, key), pages)
    kept = {k: v for k, v in params.items() if k != key and v != ""}

    def url(n: int) -> str:
        return f"{path}?{urlencode({**kept, key: n})}"

    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    numbers: list[tuple[int, str]] = []
    for n in shown:
        if numbers and n - numbers[-1][0] > 1:
            numbers.append((0, ""))
        numbers.append((n, url(n)))
    return Pager(page, pages, int(total), (page - 1) * per_page, per_page, url(page - 1) if page > 1 else "",
                 url(page + 1) if page < pages else "", numbers)
