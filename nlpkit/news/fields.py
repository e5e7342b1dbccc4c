"""Page furniture reported as fields instead of being lost or mixed into the body.

A news page carries, around its text, the outlet's name, a byline ("조민정(jjung@edaily.co.kr)"),
photo captions and a copyright line ("Copyright ⓒ 이데일리. All rights reserved. 무단 전재 및
재배포 금지."). The body extractors drop them (they are not article text); these readers keep
them. All read markup by common conventions (meta tags, JSON-LD, ``byline`` / ``copyright`` /
``caption`` classes, ``figcaption``, photo tables), not by site, and never raise: a missing
field is ``None`` or empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import html as lxml_html

from nlpkit.news.metadata import jsonld_items

__all__ = ["PageFields", "page_byline", "page_captions", "page_copyright", "page_outlet", "page_fields"]

_COPYRIGHT = re.compile(r"(Copyright|ⓒ|©|\(c\)\s*\d{4}|무단\s*전재|재배포\s*금지|All rights reserved)", re.IGNORECASE)
_CAPTION_XPATH = (".//figcaption | .//*[contains(@class,'img_desc') or contains(@class,'caption')"
                  " or contains(@class,'photo_desc')]")
_MAX_CAPTIONS = 50
_MAX_FIELD = 500  # characters; longer "bylines" or "copyright lines" are not what they claim to be


def _text(el: object) -> str:
    raw = el if isinstance(el, str) else el.text_content()  # type: ignore[attr-defined]
    return " ".join(str(raw).split())


def page_outlet(tree: lxml_html.HtmlElement) -> str | None:
    """The publishing outlet: a portal's "OUTLET | PORTAL" author tag, JSON-LD publisher, og:site_name.

    On Naver News the page says ``<meta property="og:article:author" content="이데일리 | 네이버">``
    and ``twitter:creator`` "이데일리": the outlet is 이데일리, not the portal.
    """
    for value in tree.xpath("//meta[@property='og:article:author']/@content"):
        if " | " in str(value):
            return _text(str(value).split(" | ")[0]) or None
    for item in jsonld_items(tree):
        pub = item.get("publisher")
        if isinstance(pub, dict) and isinstance(pub.get("name"), str) and pub["name"].strip():
            return _text(pub["name"])
    for xp in ("//meta[@property='og:site_name']/@content", "//meta[@name='twitter:creator']/@content"):
        for value in tree.xpath(xp):
            text = _text(str(value))
            if text and not text.startswith("@") and "://" not in text and len(text) < 100:
                return text
    return None


def page_byline(tree: lxml_html.HtmlElement) -> str | None:
    """The first non-empty element with a ``byline`` class (name and e-mail as the page prints them)."""
    for el in tree.xpath("//*[contains(concat(' ',normalize-space(@class),' '),' byline ')"
                         " or contains(@class,'byline_s') or contains(@class,'byline-')]")[:20]:
        text = _text(el)
        if text and len(text) <= _MAX_FIELD:
            return text
    return None


def page_copyright(tree: lxml_html.HtmlElement) -> str | None:
    """The copyright line: an element with a ``copyright`` class whose text reads like one."""
    for el in tree.xpath("//*[contains(@class,'copyright') or contains(@class,'c_text')]")[:20]:
        text = _text(el)
        if text and len(text) <= _MAX_FIELD and _COPYRIGHT.search(text):
            return text
    return None


def page_captions(body: lxml_html.HtmlElement) -> tuple[str, ...]:
    """Photo captions inside the article element: caption elements, and the text rows of photo tables.

    Read before the body's photo furniture is dropped. A photo table (a ``<table>`` holding an
    ``<img>``) gives the text of its cells that hold no image: that is where Naver's older
    layout puts the caption.
    """
    found: list[str] = []
    for el in body.xpath(_CAPTION_XPATH)[:_MAX_CAPTIONS]:
        found.append(_text(el))
    for table in body.xpath(".//table[.//img][not(ancestor::table)]")[:_MAX_CAPTIONS]:
        for cell in table.xpath(".//td[not(.//img) and not(.//td)]"):
            found.append(_text(cell))
    return tuple(dict.fromkeys(c for c in found if c and len(c) <= 2 * _MAX_FIELD))


@dataclass(frozen=True, slots=True)
class PageFields:
    """What :func:`page_fields` found; every field may be missing."""

    outlet: str | None
    byline: str | None
    captions: tuple[str, ...]
    copyright: str | None


def page_fields(tree: lxml_html.HtmlElement, body: lxml_html.HtmlElement | None = None) -> PageFields:
    """Outlet, byline, captions (inside ``body`` when given, else the whole page) and copyright line."""
    return PageFields(page_outlet(tree), page_byline(tree), page_captions(body if body is not None else tree),
                      page_copyright(tree))
