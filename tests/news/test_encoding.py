"""Decoding the real Naver pages: UTF-8, EUC-KR, and a page whose meta charset lies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nlpkit.news.encoding import charset_from_content_type, charset_from_meta, decode_html

# (file, codec the bytes really are, what decided it with no HTTP header, title expected)
PAGES = [
    ("naver_article_edaily_2022-09-14_utf8.html", "utf-8", "meta", "이준석 가처분"),
    ("naver_article_heraldcorp_2023-09-07_utf8.html", "utf-8", "meta", "해병대 1사단 첫 압수수색"),
    ("naver_section_politics_euckr.html", "cp949", "meta", "정치 홈 : 네이버 뉴스"),
    ("naver_section_politics_2022-12_resaved_utf8_meta_euckr.html", "utf-8", "utf8", "정치 홈 : 네이버 뉴스"),
    ("naver_section_politics_2026_utf8.html", "utf-8", "meta", "정치 : 네이버 뉴스"),
]


def _title(text: str) -> str:
    m = re.search(r"<title>(.*?)</title>", text, re.S)
    assert m, "no <title>"
    return " ".join(m.group(1).split())


@pytest.mark.parametrize(("name", "codec", "decided_by", "title"), PAGES)
@pytest.mark.parametrize("header", [None, "text/html", "text/html; charset=EUC-KR", "text/html; charset=utf-8"])
def test_real_naver_pages_decode_whatever_the_header_says(naver_html: Path, name: str, codec: str, decided_by: str,
                                                          title: str, header: str | None) -> None:
    body = (naver_html / name).read_bytes()
    d = decode_html(body, header)
    assert d.encoding == codec
    assert title in _title(d.text)
    assert "\ufffd" not in d.text
    if header is None or "charset" not in header:
        assert d.decided_by == decided_by


def test_the_lying_meta_is_seen_and_overruled(naver_html: Path) -> None:
    body = (naver_html / PAGES[3][0]).read_bytes()
    assert charset_from_meta(body).lower() == "euc-kr"
    d = decode_html(body)
    assert (d.encoding, d.decided_by, d.declared.lower()) == ("utf-8", "utf8", "euc-kr")
    with pytest.raises(UnicodeDecodeError):
        body.decode("euc-kr")  # trusting the meta would fail or produce mojibake


def test_euckr_page_is_not_utf8_and_decodes_with_cp949(naver_html: Path) -> None:
    body = (naver_html / PAGES[2][0]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert decode_html(body).text == body.decode("cp949")


def test_detection_without_any_declaration() -> None:
    text = "<html><body><p>" + "서울시는 오늘 새로운 교통 정책을 발표했다. " * 20 + "</p></body></html>"
    d = decode_html(text.encode("cp949"))
    assert d.decided_by == "detected"
    assert "교통 정책" in d.text


@pytest.mark.parametrize(("value", "expected"), [("text/html; charset=EUC-KR", "EUC-KR"), ('text/html;charset="utf-8"', "utf-8"),
                                                  ("text/html", None), (None, None)])
def test_charset_from_content_type(value: str | None, expected: str | None) -> None:
    assert charset_from_content_type(value) == expected
