"""Article text and metadata from decoded HTML: site rules first, then paragraph voting.

Order (chosen by cross-validation over two development sets, see ``benchmarks/bench_extraction.py``
and ``benchmarks/train_paragraph_voter.py``):

1. a site rule (built-in Naver News and etnews layouts, or the source's own ``rules``) when
   both its title and body XPaths match;
2. paragraph voting (:mod:`nlpkit.news.vote`): trafilatura ``favor_precision`` and
   ``favor_recall`` and trafilatura's readability fork each extract the page; a small learned
   model keeps or drops each paragraph any of them found;
3. newspaper4k (``fetch_images=False``, tldextract kept offline) when 2 gives fewer than
   ``MIN_WORDS`` words and newspaper4k gives more.

Then boilerplate paragraphs (bylines, copyright and "무단 전재" notices, related-article lists)
are removed; paragraphs are kept, separated by a blank line. The outlet, byline, photo captions
and copyright line are reported as fields of :class:`Article` (:mod:`nlpkit.news.fields`).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree as lxml_etree
from lxml import html as lxml_html

from nlpkit.errors import MissingDependencyError
from nlpkit.news.fields import page_byline, page_captions, page_copyright, page_outlet
from nlpkit.news.metadata import canonical_url, detect_language, meta_authors, meta_published, meta_section, parse_time
from nlpkit.news.sources import SiteRule
from nlpkit.news.vote import ParagraphVoter, vote

__all__ = ["Article", "BUILTIN_RULES", "MIN_WORDS", "clean_paragraphs", "content_hash", "extract_article", "voter_outputs"]

MIN_WORDS = 50
#: Pages with more elements are not extracted: the largest of 65 real news pages has 2,291, and the
#: extractors' time and memory grow faster than the page (a 200k-link page: 3 minutes and 2 GB).
MAX_NODES = 30_000
#: Links and paragraphs read when judging whether a page is a list of links (bounds the work per page).
MAX_LINKS = 20_000
MAX_PARAGRAPHS = 5_000
_KEY = 8  # link texts shorter than this do not count; longer ones are indexed by this many characters
_WORD = re.compile(r"\w+")
#: lxml refuses a str that starts with ``<?xml ... encoding=...?>`` (XHTML pages); the text is decoded already
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

# photo tables and captions, video players, the bold summary box above the text
_NAVER_DROP = [".//script", ".//style", ".//table[contains(@class,'nbd_table')]", ".//*[contains(@class,'img_desc')]",
               ".//*[contains(@class,'end_photo_org')]", ".//*[contains(@class,'vod_player_wrap')]",
               ".//*[contains(@class,'artical-btm')]", ".//*[contains(@class,'media_end_summary')]"]
#: Layouts known by name. A rule wins only where both its title and body XPaths match.
BUILTIN_RULES: dict[str, SiteRule] = {
    "naver": SiteRule(
        title="//*[@id='title_area'] | //h2[contains(@class,'media_end_head_headline')]",
        body="//*[@id='dic_area']",
        date="//span[contains(@class,'media_end_head_info_datestamp_time')]/@data-date-time",
        author="//em[contains(@class,'media_end_head_journalist_name')]",
        drop=_NAVER_DROP,
    ),
    "etnews": SiteRule(
        title="//div[contains(concat(' ',normalize-space(@class),' '),' article_title ')]//*[self::h1 or self::h2 or self::h3]"
              " || //div[contains(concat(' ',normalize-space(@class),' '),' article_title ')]",
        body="//div[contains(concat(' ',normalize-space(@class),' '),' article_txt ')]",
        date="//time/@datetime | //*[contains(@class,'date')]/time/@datetime",
        author="//*[contains(@class,'article_title')]//*[contains(@class,'writer') or contains(@class,'byline')]",
        drop=[".//script", ".//style", ".//figcaption", ".//*[contains(@class,'article_relation')]",
              ".//*[contains(concat(' ',normalize-space(@class),' '),' ad ')]"],
    ),
}

_BOILER = re.compile(
    r"(무단\s*전재|재배포\s*금지|재판매\s*(및\s*)?DB\s*금지|저작권자\s*[ⓒ©(]|^\s*[ⓒ©]|Copyright\s*(©|ⓒ|\(c\))|"
    r"All rights reserved|^\s*(▶|☞|■\s*관련|\[관련기사\]|<관련기사>|관련기사\s*$)|기사제보|카카오톡\s*[:：]|"
    r"네이버에서 .{1,20}구독|구독하기\s*$|^\s*\[?사진\s*=|^\s*<?저작권자)",
    re.IGNORECASE,
)
_BYLINE_ONLY = re.compile(
    r"^\s*[\[(]?\s*(?:[가-힣]{2,4}\s*(?:기자|특파원|객원기자|논설위원)\s*)+[\])]?\s*"
    r"[(\[]?\s*(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+)?\s*[)\]]?\s*$|^\s*[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s*$"
)
_LEAD = re.compile(r"^\s*[\[(【](?:[^\]\)】]{0,20}=)?\s*[^\]\)】]{0,20}[\])】]\s*(?:[가-힣]{2,4}\s*(?:기자|특파원)\s*=\s*)?")
_BRACKET_BYLINE = re.compile(r"^\s*\[[^\]=]{0,20}\s[가-힣]{2,4}\s*(?:기자|특파원)\]\s*")
_KO_AUTHOR = re.compile(r"([가-힣]{2,4})\s*(?:기자|특파원)")


@dataclass(frozen=True, slots=True)
class Article:
    """One extracted article (``published`` is timezone-aware or None)."""

    canonical_url: str
    title: str
    body: str
    authors: tuple[str, ...]
    published: datetime | None
    language: str
    section: str | None
    extractor: str
    content_hash: str
    #: the publishing outlet (on a portal such as Naver News: the press, not the portal)
    outlet: str | None = None
    #: the byline as printed ("조민정(jjung@edaily.co.kr)"), kept out of the body
    byline: str | None = None
    #: photo captions of the article, kept out of the body
    captions: tuple[str, ...] = ()
    #: the copyright line ("Copyright ⓒ 이데일리. All rights reserved. 무단 전재 및 재배포 금지.")
    copyright: str | None = None


def content_hash(body: str) -> str:
    """sha256 of the body with whitespace collapsed (exact duplicates across URLs share it)."""
    return hashlib.sha256(" ".join(body.split()).encode("utf-8")).hexdigest()


def clean_paragraphs(text: str) -> str:
    """Split into paragraphs, drop boilerplate ones, strip Korean wire-service leads.

    >>> clean_paragraphs("(서울=연합뉴스) 홍길동 기자 = 본문이다.\\n\\n무단 전재 및 재배포 금지")
    '본문이다.'
    """
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", text or "")]
    out: list[str] = []
    for p in paragraphs:
        if not p or _BOILER.search(p) or _BYLINE_ONLY.match(p):
            continue
        out.append(p)
    for i in range(min(3, len(out))):  # wire-service lead: "(서울=연합뉴스) 홍길동 기자 = ..."
        lead = _LEAD.match(out[i])
        if lead and "=" in lead.group(0):
            out[i] = out[i][lead.end():].strip()
            break
        if bracket := _BRACKET_BYLINE.match(out[i]):
            out[i] = out[i][bracket.end():].strip()
            break
    return "\n\n".join(p for p in out if p)


def _first(tree: lxml_html.HtmlElement, xpath: str | None) -> object | None:
    """First match of ``xpath``; ``a || b`` tries ``a`` first, then ``b``."""
    for alternative in (xpath or "").split(" || "):
        if not alternative.strip():
            continue
        try:
            found = tree.xpath(alternative)
        except Exception:  # a bad user XPath must not stop the run; the rule simply does not match
            continue
        if found:
            return found[0]
    return None


def _apply_rule(
    tree: lxml_html.HtmlElement, rule: SiteRule
) -> tuple[str, str, str | None, list[str], tuple[str, ...]] | None:
    """(title, body, date text, authors, captions) when both the title and body XPaths match."""
    body_el = _first(tree, rule.body)
    if body_el is None or not hasattr(body_el, "iter"):
        return None
    title_el = _first(tree, rule.title)
    if title_el is None:
        return None
    captions = page_captions(body_el)  # read before the rule drops the photo furniture
    for xp in rule.drop:
        for el in body_el.xpath(xp):
            el.drop_tree()
    title = " ".join((title_el.text_content() if hasattr(title_el, "text_content") else str(title_el)).split())
    date = _first(tree, rule.date)
    date_text = None if date is None else (date if isinstance(date, str) else date.text_content()).strip()
    authors = []
    if rule.author:
        for el in tree.xpath(rule.author):
            name = " ".join((el.text_content() if hasattr(el, "text_content") else str(el)).split())
            m = _KO_AUTHOR.match(name)
            authors.append(m.group(1) if m else name)
    return title, _lines(body_el), date_text, [a for a in authors if a], captions


def _trafilatura():  # type: ignore[no-untyped-def]
    try:
        import trafilatura
    except ImportError:
        raise MissingDependencyError("article extraction requires trafilatura: pip install 'nlpkit[news]'") from None
    return trafilatura


def _generic_text(html: str, url: str) -> tuple[str, str]:
    """Paragraph voting between trafilatura and its readability fork; newspaper4k when both are short."""
    outputs = voter_outputs(html, url)
    text = vote(outputs, _voter())
    if len(_WORD.findall(text)) >= MIN_WORDS:
        return text, "vote"
    np_text = _newspaper_text(html, url)
    return max([(np_text, "newspaper"), (text, "vote")], key=lambda c: len(_WORD.findall(c[0])))


@functools.lru_cache(maxsize=1)
def _voter() -> ParagraphVoter:
    return ParagraphVoter.from_json()


_BLOCKS = frozenset({"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "pre", "dd", "dt",
                     "section", "article", "table", "ul", "ol", "br", "figcaption", "header", "footer", "aside"})


def _lines(el: lxml_html.HtmlElement) -> str:
    """Text of an element, one line per block element (iterative: no recursion limit on deep pages)."""
    out: list[str] = []
    cur: list[str] = []

    def flush() -> None:
        line = " ".join("".join(cur).split())
        if line:
            out.append(line)
        cur.clear()

    for event, node in lxml_etree.iterwalk(el, events=("start", "end")):
        is_block = isinstance(node.tag, str) and node.tag in _BLOCKS
        if event == "start":
            if is_block:
                flush()
            if isinstance(node.tag, str) and node.text:
                cur.append(node.text)
        else:
            if is_block:
                flush()
            if node is not el and node.tail:
                cur.append(node.tail)
    flush()
    return "\n".join(out)


def voter_outputs(html: str, url: str) -> dict[str, str]:
    """The two extractions the paragraph voter combines.

    ``precision``: trafilatura ``favor_precision`` (with its own readability/jusText fallbacks),
    or trafilatura's default mode when that gives fewer than :data:`MIN_WORDS` words;
    ``readability``: trafilatura's readability fork on the raw page, one line per block element.
    """
    trafilatura = _trafilatura()
    from trafilatura.external import try_readability
    from trafilatura.utils import load_html

    precision = trafilatura.extract(html, url=url, favor_precision=True) or ""
    if len(_WORD.findall(precision)) < MIN_WORDS:
        recall = trafilatura.extract(html, url=url) or ""
        precision = recall if len(_WORD.findall(recall)) > len(_WORD.findall(precision)) else precision
    tree = load_html(html)
    readability = _lines(try_readability(tree)) if tree is not None else ""
    return {"precision": precision, "readability": readability}


def _newspaper_text(html: str, url: str) -> str:
    """newspaper4k's body text, offline: no image downloads, tldextract on its bundled list."""
    try:
        import tldextract.tldextract as tld
    except ImportError:
        raise MissingDependencyError("the newspaper fallback requires newspaper4k: pip install 'nlpkit[news]'") from None

    if not getattr(tld.TLD_EXTRACTOR, "_nlpkit_offline", False):
        offline = tld.TLDExtract(suffix_list_urls=())
        offline._nlpkit_offline = True  # type: ignore[attr-defined]
        tld.TLD_EXTRACTOR = offline
    from newspaper import Article as NpArticle, Config

    cfg = Config()
    cfg.fetch_images = False
    cfg.memorize_articles = False
    try:
        art = NpArticle(url or "http://localhost/", config=cfg)
        art.download(input_html=html)
        art.parse()
        return art.text or ""
    except Exception:  # newspaper raises on odd markup; a missing fallback is not fatal
        return ""


def extract_article(
    html: str,
    url: str,
    *,
    rules: SiteRule | None = None,
    default_section: str | None = None,
    timezone_name: str = "Asia/Seoul",
    language_hint: str = "auto",
) -> tuple[Article | None, str]:
    """Extract one article; returns (article, extractor) or (None, reason it is not an article)."""
    try:
        tree = lxml_html.document_fromstring(_XML_DECLARATION.sub("", html, count=1))
    except Exception as e:  # lxml refuses some inputs (e.g. only a comment); that page has no article
        return None, f"unparseable HTML: {type(e).__name__}: {e}"
    if sum(1 for _ in itertools.islice(tree.iter(), MAX_NODES + 1)) > MAX_NODES:
        return None, (f"more than {MAX_NODES:,} HTML elements (an index or archive page, not an article; "
                      "extract.MAX_NODES): not extracted")
    tz = ZoneInfo(timezone_name)
    title, body, date_text, authors, extractor = "", "", None, [], ""
    captions: tuple[str, ...] | None = None
    for name, rule in ([("source", rules)] if rules else []) + list(BUILTIN_RULES.items()):
        found = _apply_rule(tree, rule)
        if found is not None:
            title, body, date_text, authors, captions = found
            extractor = f"rule:{name}"
            break
    if not extractor:
        if not _says_article(tree):  # a cheap first look spares list pages the full extraction
            quick = clean_paragraphs(_trafilatura().extract(html, url=url, fast=True) or "")
            if quick and (share := _list_page_share(tree, quick)) is not None:
                return None, f"list page, not an article ({share:.0%} of the extracted paragraphs are link texts)"
        body, extractor = _generic_text(html, url)
    body = clean_paragraphs(body)
    if len(_WORD.findall(body)) < 10:
        return None, f"no article text found (extractor {extractor} gave {len(_WORD.findall(body))} words)"
    if not extractor.startswith("rule:") and (share := _list_page_share(tree, body)) is not None:
        return None, f"list page, not an article ({share:.0%} of the extracted paragraphs are link texts)"
    if not title:
        title = _meta_title(tree)
    published = parse_time(date_text, tz) if date_text else None
    published = published or meta_published(tree, tz)
    if not authors:
        authors = meta_authors(tree)
    section = meta_section(tree) or default_section
    if captions is None:  # generic path: captions inside the page's <article>, else anywhere
        article_el = tree.find(".//article")
        captions = page_captions(article_el if article_el is not None else tree)
    return Article(
        canonical_url=canonical_url(tree, url),
        title=title,
        body=body,
        authors=tuple(dict.fromkeys(authors)),
        published=published,
        language=detect_language(body, language_hint),
        section=section,
        extractor=extractor,
        content_hash=content_hash(body),
        outlet=page_outlet(tree),
        byline=page_byline(tree),
        captions=captions,
        copyright=page_copyright(tree),
    ), extractor


def _says_article(tree: lxml_html.HtmlElement) -> bool:
    og_type = tree.xpath("//meta[@property='og:type']/@content")
    return bool(og_type) and str(og_type[0]).strip().lower() == "article"


def _list_page_share(tree: lxml_html.HtmlElement, body: str) -> float | None:
    """Share of paragraphs made mostly of link texts on a non-article page (None when it is an article).

    A paragraph counts when the distinct link texts (of 8+ characters) found inside it cover a
    quarter of its length. Link texts are looked up by their first 8 characters at each position
    of the paragraph, so the cost grows with the text, not with paragraphs x links; only the first
    :data:`MAX_LINKS` links and :data:`MAX_PARAGRAPHS` paragraphs are read, so no page can stall it.
    """
    if _says_article(tree):
        return None
    og_type = tree.xpath("//meta[@property='og:type']/@content")
    threshold = 0.2 if og_type else 0.5  # no og:type at all: ask for a clearer majority of link texts
    body_el = tree.find("body")
    links = itertools.islice(body_el.iterdescendants("a") if body_el is not None else (), MAX_LINKS)
    anchors = {a for a in (" ".join(x.text_content().split()) for x in links) if len(a) >= _KEY}
    index: dict[str, set[int]] = {}
    for a in anchors:
        index.setdefault(a[:_KEY], set()).add(len(a))
    paragraphs = body.split("\n\n")[:MAX_PARAGRAPHS]
    hits = sum(1 for p in paragraphs if _linked_chars(p, anchors, index, 0.25 * len(p)) >= 0.25 * len(p))
    share = hits / len(paragraphs)
    return share if share >= threshold else None


def _linked_chars(p: str, anchors: set[str], index: dict[str, set[int]], enough: float) -> int:
    """Total length of the distinct ``anchors`` that occur in ``p`` (stops once it reaches ``enough``)."""
    found: set[str] = set()
    total = 0
    for i in range(len(p) - _KEY + 1):
        for n in index.get(p[i:i + _KEY], ()):
            cand = p[i:i + n]
            if len(cand) == n and cand not in found and cand in anchors:
                found.add(cand)
                total += n
                if total >= enough:
                    return total
    return total


def _meta_title(tree: lxml_html.HtmlElement) -> str:
    for xp in ("//meta[@property='og:title']/@content", "//h1", "//title"):
        el = _first(tree, xp)
        if el is not None:
            text = el if isinstance(el, str) else el.text_content()
            text = " ".join(str(text).split())
            if text:
                return text
    return ""
