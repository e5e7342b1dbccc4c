"""Related words (연관어): NPMI over documents with a minimum count, on the real korean_press posts."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpkit.errors import FeatureError
from nlpkit.features.docterms import load_doc_terms
from nlpkit.features.related import related_words


def _naive(rows: list[set[str]], term: str, min_count: int) -> dict[str, tuple[int, float]]:
    """The textbook definition, one pair at a time."""
    n = len(rows)
    n_x = sum(term in r for r in rows)
    out = {}
    for y in sorted({t for r in rows for t in r} - {term}):
        n_y = sum(y in r for r in rows)
        n_xy = sum(term in r and y in r for r in rows)
        if n_xy >= min_count:
            pmi = math.log2(n_xy * n / (n_x * n_y))
            out[y] = (n_xy, 1.0 if n_xy == n else pmi / -math.log2(n_xy / n))
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sets(st.sampled_from("abcdefg"), min_size=1, max_size=5), min_size=3, max_size=40),
       st.integers(1, 3))
def test_scores_match_the_textbook_definition(doc_terms_of, rows: list[set[str]], min_count: int) -> None:  # type: ignore[no-untyped-def]
    dt = doc_terms_of(rows)
    term = sorted(rows[0])[0]
    total, n_x, rel = related_words(dt, term, n=10, min_count=min_count)
    want = _naive(rows, term, min_count)
    assert (total, n_x) == (len(rows), sum(term in r for r in rows))
    assert {r.term for r in rel} == set(want)
    for r in rel:
        assert r.count == want[r.term][0] and r.npmi == pytest.approx(want[r.term][1], abs=1e-3)
    assert [r.npmi for r in rel] == sorted((r.npmi for r in rel), reverse=True)


def test_filter_restricts_every_count_to_the_filtered_documents(doc_terms_of) -> None:  # type: ignore[no-untyped-def]
    rows = [{"x", "y"}, {"x", "y"}, {"x", "y"}, {"x", "z"}, {"y"}, {"x", "z"}, {"x", "z"}, {"z"}]
    outlets = ["a", "a", "a", "a", "a", "b", "b", "b"]
    dt = doc_terms_of(rows, outlets)
    total, n_x, rel = related_words(dt, "x", outlet="b", min_count=2)
    assert (total, n_x) == (3, 2)
    assert [(r.term, r.count, r.df) for r in rel] == [("z", 2, 3)]
    assert {r.term: r.count for r in related_words(dt, "x", min_count=2)[2]} == {"y": 3, "z": 3}
    with pytest.raises(FeatureError, match="outlet 'c' is not in toy; known: a, b"):
        related_words(dt, "x", outlet="c")


@pytest.mark.slow
def test_real_posts_related_words(press_store) -> None:  # type: ignore[no-untyped-def]
    dt = load_doc_terms(press_store, "korean_press")
    total, n_x, rel = related_words(dt, "사드", n=10)
    assert total == 2746 and n_x >= 40
    top = [r.term for r in rel]
    assert "배치" in top[:3] and "발사대" in top   # THAAD deployment, launchers
    assert all(r.count >= 3 for r in rel)
    # within one outlet and period the counts are that outlet's
    t2, n2, rel2 = related_words(dt, "북한", outlet="한겨레", since="2017-07-28", until="2017-08-11", min_count=2)
    assert t2 < 771 and 0 < n2 < 61 and all(r.count >= 2 for r in rel2)
    with pytest.raises(FeatureError, match="did you mean 사드"):
        related_words(dt, "사드드")
    with pytest.raises(FeatureError, match="--since '2017-13-01' is not a date"):
        related_words(dt, "사드", since="2017-13-01")


@pytest.mark.slow
def test_stored_table_holds_the_frequent_terms(press_store) -> None:  # type: ignore[no-untyped-def]
    t = press_store.read("analysis_korean_press", "related_words")
    rows = [r for r in t.to_pylist() if r["term"] == "대통령"]
    assert rows and rows[0]["rank"] == 1 and rows[0]["count"] >= 3
    assert press_store.latest("analysis_korean_press").manifest["parameters"]["related_statistic"].startswith("NPMI")
