"""Naver News article pages give their body, title, date and outlet exactly; furniture goes to fields.

The expected bodies are pinned by sha256 (the pages' text is not ours to publish), with their
paragraph count and first and last words, checked by reading the pages' ``#dic_area`` by hand:
the body is the article's paragraphs in order, without the photo captions, the byline lead
("[헤럴드경제=한지숙 기자]") and the copyright line, which come back as fields instead.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from nlpkit.news.encoding import decode_html
from nlpkit.news.extract import extract_article
from nlpkit.news.fields import page_captions, page_fields

CASES = [
    {
        "file": "naver_article_edaily_2022-09-14_utf8.html",
        "title": "\"비상상황 조작vs정당 자율성\"...'이준석 가처분' 날선 공방",
        "published": "2022-09-14T16:04:03+09:00",
        "outlet": "이데일리",
        "byline": "조민정(jjung@edaily.co.kr)",
        "copyright": "Copyright ⓒ 이데일리. All rights reserved. 무단 전재 및 재배포 금지.",
        "captions": 1,
        "caption_start": "이준석 국민의힘 전 대표가 14일",
        "body_sha256": "9e31d1c69a6332df09b0d13f5f1fedb33610733060a873f138a53a585b794c23",
        "paragraphs": 8,
        "start": "국민의힘 비상대책위원회 관련 가처분 심문기일에서",
        "end": "이전보다 구체화한 바 있다.",
    },
    {
        "file": "naver_article_heraldcorp_2023-09-07_utf8.html",
        "title": "경찰, 해병대 1사단 첫 압수수색…“확인할 증거 서류 많아”",
        "published": "2023-09-07T12:22:02+09:00",
        "outlet": "헤럴드경제",
        "byline": "한지숙 jshan@heraldcorp.com",
        "copyright": "Copyright ⓒ 헤럴드경제. All rights reserved. 무단 전재 및 재배포 금지.",
        "captions": 2,
        "caption_start": "빈소에 놓인 고 채수근 상병의 영정.",
        "body_sha256": "546c06494b7120fecb70339bf5b7c132ecfb67341664120ac9af35c77be1ccab",
        "paragraphs": 8,
        "start": "경찰이 집중호우 실종자 수색 중",
        "end": "흉상도 건립할 계획이다.",
    },
]


@pytest.mark.parametrize("case", CASES, ids=[c["file"][:28] for c in CASES])
def test_naver_article_fields_are_exact(naver_html: Path, case: dict) -> None:
    html = decode_html((naver_html / case["file"]).read_bytes()).text
    art, extractor = extract_article(html, "https://n.news.naver.com/article/x")
    assert art is not None, extractor
    assert art.title == case["title"]
    assert art.published == datetime.fromisoformat(case["published"])
    assert art.outlet == case["outlet"]
    paragraphs = art.body.split("\n\n")
    assert len(paragraphs) == case["paragraphs"]
    assert paragraphs[0].startswith(case["start"]) and paragraphs[-1].endswith(case["end"])
    assert hashlib.sha256(art.body.encode("utf-8")).hexdigest() == case["body_sha256"]
    # furniture: reported, and not in the body
    assert art.byline == case["byline"]
    assert art.copyright == case["copyright"]
    assert len(art.captions) == case["captions"] and art.captions[0].startswith(case["caption_start"])
    for furniture in (art.byline, art.copyright, *art.captions):
        assert furniture not in art.body
    assert "기자]" not in art.body and "@" not in art.body


def test_fields_do_not_leak_across_layouts(naver_html: Path) -> None:
    """A page without captions or copyright markup reports none rather than guessing."""
    html = ("<html><head><meta property='og:site_name' content='Example Times'><title>t</title></head><body>"
            "<article><h1>Title</h1>" + "<p>" + "A sentence of the article body goes on here. " * 30 + "</p>"
            "</article></body></html>")
    art, why = extract_article(html, "https://example.com/a")
    assert art is not None, why
    assert (art.outlet, art.byline, art.captions, art.copyright) == ("Example Times", None, (), None)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["<table><tr><td><img src=x></td></tr><tr><td>사진 설명</td></tr></table>",
                                 "<em class='img_desc'>캡션</em>", "<p class='byline'>홍길동 기자</p>",
                                 "<div class='copyright'>ⓒ 연합뉴스</div>", "<figcaption></figcaption>", "<p>본문</p>",
                                 "<table><tr><td><table><tr><td>x</td></tr></table></td></tr></table>", "<!-- c -->"]),
                max_size=30))
def test_page_fields_never_raise_and_stay_bounded(parts: list[str]) -> None:
    tree = lxml_html.document_fromstring("<html><body><article>" + "".join(parts) + "</article></body></html>")
    fields = page_fields(tree, tree.find(".//article"))
    assert all(c and len(c) <= 1000 for c in fields.captions)
    assert len(fields.captions) == len(set(fields.captions))
    assert fields.byline in (None, "홍길동 기자")
    assert fields.copyright in (None, "ⓒ 연합뉴스")


def test_captions_are_capped_on_a_page_of_photos() -> None:
    html = "<html><body><article>" + "".join(f"<figcaption>photo {i}</figcaption>" for i in range(5000)) + "</article></body></html>"
    assert len(page_captions(lxml_html.document_fromstring(html))) <= 100
