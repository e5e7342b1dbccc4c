"""Article metadata from page markup: canonical URL, publication time, authors, section, language.

All readers take an lxml tree and never raise: a missing or unreadable field is ``None`` / empty.
"""

from __future__ import annotations

import email.utils
import json
import re
from datetime import datetime, tzinfo
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import html as lxml_html

from nlpkit.text.lang import detect_language  # the project's one language detector (re-exported)

__all__ = ["canonical_url", "detect_language", "jsonld_items", "meta_authors", "meta_published", "meta_section",
           "normalize_url", "parse_time", "url_problem"]

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid|ocid|from)$", re.IGNORECASE)
_NAVER_ARTICLE = re.compile(r"^/(?:mnews/)?article/(\d{3})/(\d{10})")
_DATE_META = ("article:published_time", "og:published_time", "pubdate", "publishdate", "date", "article.published",
              "parsely-pub-date", "sailthru.date", "dc.date", "dc.date.issued", "dcterms.created", "datePublished")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be fetched (not http(s), no host, a port outside 0-65535, a broken IPv6
    bracket), or None when it can. Never raises: one bad URL is one ``bad_url`` row, not a failed run.

    >>> url_problem("http://127.0.0.1:99999/x")
    "bad port in '127.0.0.1:99999' (Port out of range 0-65535)"
    >>> url_problem("http://[::1") is not None, url_problem("https://example.com/a") is None
    (True, True)
    """
    try:
        parts = urlsplit(url)
    except ValueError as e:  # "Invalid IPv6 URL"
        return f"{e}"
    try:
        parts.port  # noqa: B018 - reading the port is the check
    except ValueError as e:
        return f"bad port in {parts.netloc!r} ({e})"
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'!r} is not http(s)"
    if not parts.hostname:
        return "no host name"
    return None


def normalize_url(url: str) -> str:
    """Canonical form used for deduplication: lower-case scheme/host, no fragment or tracking query.

    Naver News article URLs (``/article/OID/AID`` and ``/mnews/article/OID/AID?sid=..``) map to one form.
    A URL that cannot be parsed (a bad port, a broken IPv6 bracket) is returned stripped, as it is.

    >>> normalize_url("HTTPS://n.news.naver.com/article/016/0002194334?sid=102#x")
    'https://n.news.naver.com/mnews/article/016/0002194334'
    >>> normalize_url("http://[::1")
    'http://[::1'
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").lower()
    if port and not ((parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    path = parts.path or "/"
    if host.endswith("news.naver.com") and (m := _NAVER_ARTICLE.match(path)):
        return f"https://n.news.naver.com/mnews/article/{m.group(1)}/{m.group(2)}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    return urlunsplit((parts.scheme.lower(), host, path, query, ""))


def canonical_url(tree: lxml_html.HtmlElement, fetched_url: str) -> str:
    """``<link rel=canonical>``, else ``og:url``, else the fetched URL; normalized, same scheme family.

    A canonical link that is not a usable http(s) URL (a bad port, a broken IPv6 address) is ignored:
    the article keeps the URL it was fetched from.
    """
    for xp in ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"):
        found = tree.xpath(xp)
        if found and str(found[0]).strip():
            try:
                cand = urljoin(fetched_url, str(found[0]).strip())
            except ValueError:
                continue
            if url_problem(cand) is None:
                return normalize_url(cand)
    return normalize_url(fetched_url)


def parse_time(text: str | None, tz: tzinfo) -> datetime | None:
    """A timezone-aware datetime from ISO 8601, 'YYYY-MM-DD HH:MM[:SS]', 'YYYY.MM.DD. HH:MM' or RFC 2822.

    Times without an offset are read in ``tz`` (the source's zone, Asia/Seoul by default).
    """
    if not text:
        return None
    s = text.strip()
    m = re.match(r"^(\d{4})[.\-/](\d{1,2})[.\-/](\d{1,2})\.?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?", s)
    dt: datetime | None = None
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        if m:
            y, mo, d, h, mi, sec = (int(g) if g else 0 for g in m.groups())
            try:
                dt = datetime(y, mo, d, h, mi, sec)
            except ValueError:
                dt = None
        else:
            try:
                dt = email.utils.parsedate_to_datetime(s)
            except (TypeError, ValueError, IndexError):
                dt = None
    if dt is None:
        return None
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt


def jsonld_items(tree: lxml_html.HtmlElement) -> list[dict]:
    """Every JSON-LD object of the page (first 10 scripts; ``@graph`` and lists flattened)."""
    out: list[dict] = []
    for script in tree.xpath("//script[@type='application/ld+json']/text()")[:10]:
        try:
            data = json.loads(script)
        except (ValueError, TypeError):
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                out.append(item)
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])
            elif isinstance(item, list):
                stack.extend(item)
    return out


def meta_published(tree: lxml_html.HtmlElement, tz: tzinfo) -> datetime | None:
    """Publication time from meta tags, itemprop, JSON-LD or ``<time datetime>``."""
    values: dict[str, list[str]] = {}
    for el in tree.xpath("//meta[@property or @name] | //*[@itemprop='datePublished']"):
        key = el.get("property") or el.get("name") or el.get("itemprop") or ""
        value = el.get("content") or el.get("datetime")
        if value:
            values.setdefault(key.lower(), []).append(value)
    for key in _DATE_META:
        for value in values.get(key.lower(), ()):
            if dt := parse_time(value, tz):
                return dt
    for item in jsonld_items(tree):
        if isinstance(item.get("datePublished"), str) and (dt := parse_time(item["datePublished"], tz)):
            return dt
    found = tree.xpath("//time/@datetime")
    return parse_time(str(found[0]), tz) if found else None


def meta_authors(tree: lxml_html.HtmlElement) -> list[str]:
    """Author names from meta tags or JSON-LD (URLs and empty values skipped)."""
    names: list[str] = []
    for xp in ("//meta[@name='author']/@content", "//meta[@property='article:author']/@content",
               "//meta[@name='byl']/@content", "//meta[@name='dable:author']/@content"):
        names += [str(v) for v in tree.xpath(xp)]
    for item in jsonld_items(tree):
        author = item.get("author")
        for a in author if isinstance(author, list) else [author]:
            if isinstance(a, dict) and isinstance(a.get("name"), str):
                names.append(a["name"])
            elif isinstance(a, str):
                names.append(a)
    out = []
    for n in names:
        n = re.sub(r"^\s*by\s+", "", " ".join(n.split()), flags=re.IGNORECASE)
        if n and "://" not in n and len(n) < 80:
            out.append(n)
    return list(dict.fromkeys(out))


def meta_section(tree: lxml_html.HtmlElement) -> str | None:
    """Section/category from ``article:section``, Naver's category marker, or JSON-LD."""
    for xp in ("//meta[@property='article:section']/@content", "//meta[@name='section']/@content",
               "//em[contains(@class,'media_end_categorize_item')]/text()"):
        found = [str(v).strip() for v in tree.xpath(xp) if str(v).strip()]
        if found:
            return found[0]
    for item in jsonld_items(tree):
        sec = item.get("articleSection")
        if isinstance(sec, str) and sec.strip():
            return sec.strip()
        if isinstance(sec, list) and sec and isinstance(sec[0], str):
            return sec[0]
    return None

