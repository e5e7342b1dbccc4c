"""Kiwi and mecab through nlpkit give exactly what the library gives when called directly.

Issue #13: the protocol must not tax the fast backends, *with the same tokens, offsets and
tags*. The direct side calls the engine on each chunk nlpkit hands it (``split_chunks`` with the
tokenizer's own limits) and adds the chunk's offset; nlpkit's ``tokenize``/``tokenize_batch``
must give the same (form, tag, start, end) for whole real documents (news articles: many
sentences, so offsets are shifted; NSMC reviews: short, noisy) and for random Hangul/Latin/
punctuation strings. The fast token building (``nlpkit.tokenize.build``) must equal the slow one.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlpkit.tokenize.base import Token
from nlpkit.tokenize.build import shift_tokens, tokens_from_columns, tokens_from_spans
from nlpkit.tokenize.tagset import map_tag
from nlpkit.tokenize.text import align, clean, split_chunks

from benchmarks import bench_tokenize
from tests.tokenize.conftest import _make

Row = tuple[str, str, int, int]


@pytest.fixture(scope="module", params=["kiwi", "mecab"])
def fast(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """(nlpkit tokenizer, direct function chunk -> rows) for each fast backend (the library as
    ``benchmarks/bench_tokenize.py`` calls it: Kiwi's own tokens, mecab-ko's ``parseToNode`` walk)."""
    name = request.param
    extra = {"cache_dir": str(tmp_path_factory.mktemp("mecab"))} if name == "mecab" else {}
    tok = _make(name, cache=False, **extra)
    call = bench_tokenize._direct(name)  # the benchmark's direct call is the reference here too

    def direct(chunk: str) -> list[Row]:
        return bench_tokenize._rows(name, "direct", call([chunk]))[0]  # type: ignore[return-value]

    return tok, direct


def _direct_doc(tok: Any, direct: Any, text: str) -> list[Row]:
    out: list[Row] = []
    for off, chunk in split_chunks(clean(text), tok.max_chunk_chars, tok.max_run_chars):
        out.extend((f, t, s + off, e + off) for f, t, s, e in direct(chunk))
    return out


def _rows(tokens: list[Token]) -> list[Row]:
    return [(t.form, t.tag, t.start, t.end) for t in tokens]


@pytest.fixture(scope="module")
def nsmc_reviews(shared_data: Path) -> list[str]:
    with zipfile.ZipFile(shared_data / "nsmc" / "ratings_test.zip") as z:
        rows = csv.DictReader(io.TextIOWrapper(z.open("ratings_test.txt"), "utf-8"), delimiter="\t",
                              quoting=csv.QUOTE_NONE)
        return [r["document"] for _, r in zip(range(400), rows)]


def test_news_articles_match_the_direct_call(fast: tuple[Any, Any], news_articles: list[dict]) -> None:
    tok, direct = fast
    bodies = [a["body"] for a in news_articles[::40]]  # 40 whole articles, every topic
    got = list(tok.tokenize_batch(bodies))
    for body, toks in zip(bodies, got):
        assert _rows(toks) == _direct_doc(tok, direct, body)
        assert all(t.ptag == map_tag(tok.name, t.tag) for t in toks)
    assert sum(len(split_chunks(b)) > 1 for b in bodies) > 30  # offsets really were shifted
    assert _rows(tok.tokenize(bodies[0])) == _rows(got[0])


def test_nsmc_reviews_match_the_direct_call(fast: tuple[Any, Any], nsmc_reviews: list[str]) -> None:
    tok, direct = fast
    got = list(tok.tokenize_batch(nsmc_reviews))
    assert len(got) == len(nsmc_reviews)
    mismatched = [r for r, toks in zip(nsmc_reviews, got) if _rows(toks) != _direct_doc(tok, direct, r)]
    assert mismatched == []
    assert sum(map(len, got)) > 4000


_ALPHABET = st.sampled_from(
    [chr(c) for c in range(0xAC00, 0xAC00 + 400, 7)] + list("가나다라마바사아자차카타파하는을를이가에서도")
    + list("abcXYZ019") + list(" .,!?…'\"()-·~%") + [" ", " ", "\n"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(_ALPHABET, min_size=0, max_size=120))
def test_random_hangul_latin_punctuation_match_the_direct_call(fast: tuple[Any, Any], text: str) -> None:
    tok, direct = fast
    assert _rows(tok.tokenize(text)) == _direct_doc(tok, direct, text)


def test_fast_building_equals_the_namedtuple_constructor() -> None:
    forms, tags, starts = ["원전", "을", "수주", "했", "다"], ["NNG", "JKO", "NNG", "XSV+EP", "EC"], [0, 2, 4, 6, 7]
    ends = [s + len(f) for s, f in zip(starts, forms)]
    fast = tokens_from_spans("mecab", forms, tags, starts, ends)
    slow = [Token(f, t, map_tag("mecab", t), None, s, e) for f, t, s, e in zip(forms, tags, starts, ends)]
    assert fast == slow and all(type(t) is Token for t in fast)
    assert [t.ptag for t in fast] == ["NOUN", "PART", "NOUN", "AFFIX", "ENDING"]
    shifted = shift_tokens(fast, 100)
    assert [(t.start, t.end) for t in shifted] == [(s + 100, e + 100) for s, e in zip(starts, ends)]
    assert shifted[0]._replace(start=0, end=2) == fast[0] and shift_tokens([], 5) == []
    chunk = "원전을 수주했다"
    cols = tokens_from_columns("komoran", chunk, ["원전", "을"], ["NNG", "JKO"], ["", "을"])
    assert [(t.lemma, t.start, t.end) for t in cols] == [(None, 0, 2), ("을", 2, 3)]
    assert [(t.start, t.end) for t in cols] == align(chunk, ["원전", "을"])
