"""News sources as declared in flows.yaml, and how each kind yields article URLs.

Kinds: ``rss`` (RSS 2.0 / Atom feed), ``sitemap`` (news sitemap or sitemap index),
``section`` (a list page plus a regex that article links match, as Naver's section pages),
``urls`` (a text file, one URL a line), ``directory`` (saved ``.html`` files, offline).

The parsers here are pure functions of text; fetching lives in :mod:`nlpkit.news.fetch`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import urldefrag, urljoin, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "FetchOptions",
    "NewsSettings",
    "SiteRule",
    "SourceSpec",
    "links_from_feed",
    "links_from_section",
    "links_from_sitemap",
    "read_url_file",
    "html_files",
]

SourceKind = Literal["rss", "sitemap", "section", "urls", "directory"]
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SiteRule(_Frozen):
    """XPath rules for one layout; where they match they win over the generic extractors."""

    title: str = Field(description="XPath of the headline element ('a || b' tries a, then b; same for all).")
    body: str = Field(description="XPath of the article body element.")
    date: str | None = Field(None, description="XPath of an element or attribute holding the publication time.")
    author: str | None = Field(None, description="XPath of byline elements.")
    drop: list[str] = Field(default_factory=list, description="XPaths removed from the body before reading it.")


class FetchOptions(_Frozen):
    """Politeness and safety limits of the HTTP client (defaults are polite)."""

    user_agent: str = Field("nlpkit-news/0.1 (+https://github.com/nlpkit; research crawler)",
                            description="User-Agent header sent with every request and matched in robots.txt.")
    per_host_concurrency: int = Field(2, ge=1, le=64, description="Requests in flight per host.")
    per_host_delay: float = Field(1.0, ge=0, description="Seconds between request starts to one host.")
    total_concurrency: int = Field(32, ge=1, le=512, description="Requests in flight overall.")
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to open a connection.")
    read_timeout: float = Field(20.0, gt=0, description="Seconds of silence allowed while reading.")
    total_timeout: float = Field(30.0, gt=0, description="Seconds for one whole response, however it trickles in (defeats slow drips).")
    deadline: float = Field(60.0, gt=0, description=(
        "Seconds for one URL in all: every attempt, retry wait and redirect. A server dripping one byte "
        "every few seconds holds a host slot at most this long, however many retries are left."))
    retries: int = Field(2, ge=0, le=10, description="Retries for timeouts, connection errors, 5xx and 429.")
    backoff: float = Field(1.0, ge=0, description="First retry delay in seconds; doubles per retry.")
    max_retry_after: float = Field(120.0, ge=0, description="Longest Retry-After honoured; longer gives up.")
    max_redirects: int = Field(5, ge=0, le=30, description="Redirects followed per URL.")
    max_bytes: int = Field(10_000_000, gt=0, description="Largest body read; bigger pages are refused.")
    respect_robots: bool = Field(True, description="Honour robots.txt (turn off only for your own servers).")
    content_types: list[str] = Field(
        default_factory=lambda: ["text/html", "application/xhtml+xml", "application/xml", "text/xml",
                                 "application/rss+xml", "application/atom+xml", "text/plain"],
        description="Content types accepted (a missing Content-Type is sniffed).")


class SourceSpec(_Frozen):
    """One news source: where its article URLs come from and how its pages are read."""

    name: str = Field(description="Unique source name used by `nlpkit news scrape --source NAME`.")
    kind: SourceKind = Field(description="rss | sitemap | section | urls | directory.")
    url: str | None = Field(None, description="Feed, sitemap or section page URL (rss, sitemap, section).")
    path: Path | None = Field(None, description="URL file (urls) or folder of saved pages (directory).")
    outlet: str = Field(description="Outlet name stored with each article, e.g. '연합뉴스'.")
    language: Literal["ko", "en", "auto"] = Field("auto", description="Language hint when detection is unsure.")
    section: str | None = Field(None, description="Section/category stored when the page names none.")
    link_pattern: str | None = Field(None, description="Regex article links match (section; optional filter otherwise).")
    rules: SiteRule | None = Field(None, description="Extraction rules for this source's layout.")
    timezone: str = Field("Asia/Seoul", description="Zone of publication times written without an offset.")
    max_articles: int = Field(200, ge=1, description="Article URLs taken from one discovery pass.")
    enabled: bool = Field(True, description="False keeps the declaration but skips the source.")

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"source name {v!r} must be lower-case letters, digits, '-' or '_'")
        return v

    @field_validator("link_pattern")
    @classmethod
    def _pattern_ok(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"link_pattern {v!r} is not a valid regex: {e}") from e
        return v

    @model_validator(mode="after")
    def _where(self) -> SourceSpec:
        if self.kind in ("rss", "sitemap", "section"):
            if not self.url or urlsplit(self.url).scheme not in ("http", "https"):
                raise ValueError(f"source {self.name!r} ({self.kind}) needs 'url' with http(s)://, got {self.url!r}")
        elif self.path is None:
            raise ValueError(f"source {self.name!r} ({self.kind}) needs 'path' (a URL file or a folder)")
        if self.kind == "section" and not self.link_pattern:
            raise ValueError(f"source {self.name!r} (section) needs 'link_pattern', a regex article links match")
        return self


class NewsSettings(_Frozen):
    """The ``news:`` section of flows.yaml."""

    sources: list[SourceSpec] = Field(default_factory=list, description="Declared sources, see SourceSpec.")
    fetch: FetchOptions = Field(default_factory=FetchOptions, description="HTTP client limits.")
    extract_workers: int = Field(2, ge=0, le=32, description="Processes extracting text (0 = in the fetching process).")
    flush_every: int = Field(50, ge=1, description="Articles buffered before a part is written to the store.")
    flush_seconds: float = Field(30.0, gt=0, description=(
        "Seconds between writes of what was fetched, however few articles: a killed run loses at most this much."))
    page_timeout: float = Field(30.0, gt=0, description=(
        "Seconds of CPU work allowed to decode and extract one page; past it the worker process is killed and "
        "the page logged extract_timeout (retried in later runs, given up after 3). Needs extract_workers >= 1: "
        "a thread (extract_workers: 0) cannot be stopped, so there the budget is not enforced."))

    @model_validator(mode="after")
    def _unique(self) -> NewsSettings:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"news source names must be unique; repeated: {', '.join(dupes)}")
        return self

    def select(self, names: list[str] | None) -> list[SourceSpec]:
        """Enabled sources, or exactly the named ones (unknown names raise, listing the known)."""
        if not names:
            return [s for s in self.sources if s.enabled]
        known = {s.name: s for s in self.sources}
        missing = [n for n in names if n not in known]
        if missing:
            from nlpkit.errors import ConfigError

            raise ConfigError(f"unknown news source(s) {', '.join(missing)}; declared in flows.yaml news.sources: "
                              f"{', '.join(known) or '(none)'}")
        return [known[n] for n in names]


# -- discovery parsers ------------------------------------------------------------------------
def _clean(url: str, base: str | None = None) -> str | None:
    """``url`` made absolute, without its fragment; None for other schemes (``mailto:``, ``javascript:``).

    An http(s) URL that cannot be parsed (a port past 65535, ``http://[::1``) is kept as written,
    so the run logs it as one ``bad_url`` row instead of failing the whole source.
    """
    url = url.strip()
    try:
        if base:
            url = urljoin(base, url)
        url = urldefrag(url).url
        return url if urlsplit(url).scheme in ("http", "https") else None
    except ValueError:
        return url if url.lower().startswith(("http://", "https://")) else None


def _as_written(url: str) -> str:
    """A URL-file line without its fragment, or as it is when it does not parse (logged as bad_url)."""
    try:
        return urldefrag(url).url
    except ValueError:
        return url


def _unique(urls: Iterator[str | None], pattern: str | None, limit: int) -> list[str]:
    rx = re.compile(pattern) if pattern else None
    seen: dict[str, None] = {}
    for u in urls:
        if u and u not in seen and (rx is None or rx.search(u)):
            seen[u] = None
            if len(seen) >= limit:
                break
    return list(seen)


def _xml_root(text: str):  # type: ignore[no-untyped-def]
    from lxml import etree

    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    data = text.encode("utf-8", errors="replace")  # a lone surrogate (a broken feed) is a '?', never an error
    data = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", data)
    return etree.fromstring(data, parser=parser)


def links_from_feed(text: str, base: str, pattern: str | None = None, limit: int = 200) -> list[str]:
    """Article links of an RSS 2.0 / RSS 1.0 / Atom feed, in feed order."""
    root = _xml_root(text)
    if root is None:
        return []
    out = []
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        if tag != "link":
            continue
        href = el.get("href")
        if href is not None:  # Atom: skip rel=self/alternate-of-feed links outside entries
            parent = el.getparent()
            ptag = parent.tag.rsplit("}", 1)[-1] if parent is not None and isinstance(parent.tag, str) else ""
            if ptag == "entry" and el.get("rel", "alternate") == "alternate":
                out.append(_clean(href, base))
        elif el.text and el.getparent() is not None and el.getparent().tag.rsplit("}", 1)[-1] == "item":
            out.append(_clean(el.text, base))
    return _unique(iter(out), pattern, limit)


def links_from_sitemap(text: str, base: str, pattern: str | None = None, limit: int = 200) -> tuple[list[str], list[str]]:
    """(page URLs, child sitemap URLs) of a sitemap or sitemap index."""
    root = _xml_root(text)
    if root is None:
        return [], []
    pages, children = [], []
    for loc in root.iter("{*}loc"):
        parent = loc.getparent()
        ptag = parent.tag.rsplit("}", 1)[-1] if parent is not None else ""
        (children if ptag == "sitemap" else pages).append(_clean(loc.text or "", base))
    return _unique(iter(pages), pattern, limit), _unique(iter(children), None, 50)


def links_from_section(html: str, base: str, pattern: str, limit: int = 200) -> list[str]:
    """Links on a list page whose absolute URL matches ``pattern``, in page order.

    The page is parsed by lxml, in time linear in its size (a regex over ``<a ...>`` was quadratic
    on a page of 40,000 unclosed ``<a `` tags).
    """
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.document_fromstring(html.encode("utf-8", "surrogatepass"),
                                             parser=lxml_html.HTMLParser(encoding="utf-8", no_network=True))
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):  # an empty or unparseable page has no links
        return []
    hrefs = (a.get("href") or "" for a in root.iter("a"))
    return _unique((_clean(h, base) for h in hrefs if h.strip() and not h.strip().startswith("#")), pattern, limit)


def read_url_file(path: Path, pattern: str | None = None, limit: int = 1_000_000) -> list[str]:
    """URLs of a text file (one a line; blank lines and ``#`` comments skipped)."""
    from nlpkit.errors import SourceError

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise SourceError(f"cannot read URL file {path}: {e.strerror}; give a text file with one URL per line") from e
    urls = (l.strip() for l in lines)
    # other schemes are kept so the run logs them as bad_url instead of dropping them silently
    return _unique((_clean(u) or _as_written(u) for u in urls if u and not u.startswith("#")), pattern, limit)


def html_files(path: Path, limit: int = 1_000_000) -> list[Path]:
    """Saved pages under a folder (``*.html``, ``*.htm``, ``*.html.gz``), sorted."""
    from nlpkit.errors import SourceError

    if not path.is_dir():
        raise SourceError(f"directory source {path} is not a folder; give a folder of saved .html files")
    files = [p for p in sorted(path.rglob("*")) if p.is_file() and p.name.lower().endswith((".html", ".htm", ".html.gz"))]
    return files[:limit]
