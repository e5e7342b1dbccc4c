"""SYNTHETIC page layouts around REAL Korean article text, for tests and benchmarks.

Only five real Korean news pages could be obtained (``korean_news_html``), so other outlets'
layouts are built here around real article text from ``korean_news/articles.jsonl.gz``. The
markup is ours (labelled ``synthetic`` in every page's ``<meta name="generator">``); the title
and paragraphs are real. Each page carries the boilerplate the extractor must remove (a
wire-service lead, a byline line, a copyright / "무단 전재" notice, a related-articles list).
"""

from __future__ import annotations

import gzip
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["KoreanArticle", "Layout", "load_korean_articles", "many_links_page", "synthetic_page"]

Layout = Literal["etnews", "generic", "generic_euckr"]
_KO_CATEGORIES = ("정치", "경제", "사회", "생활/문화", "세계", "IT/과학", "연예", "스포츠")


@dataclass(frozen=True, slots=True)
class KoreanArticle:
    """One real article of the korean_news corpus."""

    id: str
    title: str
    paragraphs: tuple[str, ...]
    category: str


def load_korean_articles(shared_data: Path, n: int | None = None, min_chars: int = 300) -> list[KoreanArticle]:
    """Articles from ``korean_news/articles.jsonl.gz`` with a real title and body, unique bodies, in file order."""
    out: list[KoreanArticle] = []
    seen: set[str] = set()
    with gzip.open(shared_data / "korean_news" / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            body, title = rec.get("body") or "", rec.get("title") or ""
            if len(body) < min_chars or not title or len(title) > 120 or body in seen:
                continue
            seen.add(body)
            paras = tuple(p.strip() for p in body.split("\n\n") if p.strip())
            out.append(KoreanArticle(rec["id"], title.strip(), paras, rec.get("category") or _KO_CATEGORIES[rec["label"]]))
            if n is not None and len(out) >= n:
                break
    return out


def synthetic_page(art: KoreanArticle, layout: Layout, url: str, published: str = "2018-05-19T10:31:00+09:00") -> bytes:
    """The bytes of a page in ``layout`` around ``art`` (EUC-KR/CP949 for ``generic_euckr``)."""
    e = html.escape
    paras = "\n".join(f"<p>{e(p)}</p>" for p in art.paragraphs)
    related = "".join(f'<li><a href="/news/related{i}.html">관련 기사 제목 {i} 클릭하세요</a></li>' for i in range(5))
    nav = "".join(f'<li><a href="/section/{i}">{c}</a></li>' for i, c in enumerate(_KO_CATEGORIES))
    if layout == "etnews":
        page = f"""<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8">
<meta name="generator" content="nlpkit synthetic layout: etnews-like, real text {art.id}">
<title>{e(art.title)} - 전자신문</title><link rel="canonical" href="{e(url)}"></head>
<body><header><ul class="gnb">{nav}</ul></header>
<div class="article_title"><h2>{e(art.title)}</h2><div class="writer">김기자 기자</div>
<div class="date"><time datetime="{published}">{published[:10]}</time></div></div>
<div class="article_body"><div class="article_txt">
{paras}
<p>김기자 기자 reporter@etnews.com</p>
<p>Copyright © 전자신문. 무단전재 및 재배포 금지</p></div>
<div class="article_relation"><h3>관련기사</h3><ul>{related}</ul></div></div>
<footer>전자신문 | 서울시 구로구 | 대표전화 02-000-0000</footer></body></html>"""
        return page.encode("utf-8")
    charset = "euc-kr" if layout == "generic_euckr" else "utf-8"
    page = f"""<!DOCTYPE html><html lang="ko"><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<meta name="generator" content="nlpkit synthetic layout: generic news site, real text {art.id}">
<title>{e(art.title)} : 데일리뉴스</title><meta property="og:type" content="article">
<meta property="og:title" content="{e(art.title)}"><meta property="og:url" content="{e(url)}">
<meta property="article:published_time" content="{published}"><meta property="article:section" content="{e(art.category)}">
<meta name="author" content="이기자"></head>
<body><div id="top"><ul class="menu">{nav}</ul><form><input name="q"></form></div>
<div id="container"><div id="content"><article><h1>{e(art.title)}</h1><div class="info">입력 {published[:10]}</div>
<div id="articleBody">
{paras}
<p>이기자 기자 lee@dailynews.example</p>
</div></article>
<div class="related"><strong>관련기사</strong><ul>{related}</ul></div>
<div class="copyright">ⓒ 데일리뉴스, 무단 전재 및 재배포 금지</div></div>
<aside><h3>많이 본 뉴스</h3><ol>{related}</ol></aside></div>
<footer><p>회사소개 | 광고안내 | 개인정보처리방침</p></footer></body></html>"""
    return page.encode("cp949" if layout == "generic_euckr" else "utf-8", errors="xmlcharrefreplace")


def many_links_page(n: int, articles: list[KoreanArticle] | None = None) -> bytes:
    """A list page with ``n`` links (an index or an endless archive): the cost of a page grows with it.

    Link texts are distinct headlines (real ones from ``articles`` when given, numbered); each
    list item also carries a short teaser, as archive pages do. No ``og:type``.
    """
    e = html.escape
    heads = [a.title for a in articles] if articles else ["서울시 예산안 국회 통과 전망"]
    items = "\n".join(f'<li><a href="/news/{i}.html">{e(heads[i % len(heads)])} ({i})</a> '
                      f'<span>{i % 28 + 1}일 입력</span></li>' for i in range(n))
    page = f"""<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>기사 목록</title></head>
<body><h1>전체 기사</h1><ul class="list">
{items}
</ul></body></html>"""
    return page.encode("utf-8")
