"""Analyst terms: keywords, cluster terms and label terms are content words only (issue 21, item 2)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pytest

from nlpkit.datasets.registry import rebuild
from nlpkit.features.build import BuildOptions, build_features
from nlpkit.features.storeio import feature_table
from nlpkit.store import Store
from nlpkit.tokenize.base import CLITICS, analyst_terms
from nlpkit.tokenize.spec import default_spec
from nlpkit.tokenize.token_rows import read_tokens

FORBIDDEN = {"VERB", "ADJ", "PART", "ENDING"}


@pytest.fixture(scope="module")
def news_features(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("analyst") / "data")
    rebuild(store, "korean_news", str(shared_data / "korean_news" / "articles.jsonl.gz"))
    build_features(store, "korean_news", BuildOptions(k=5, k_values=(4, 8), pca_components=20))
    return store


@pytest.mark.slow
def test_no_korean_news_keyword_is_a_verb_adjective_particle_or_ending(news_features: Store) -> None:
    store = news_features
    kw = feature_table(store, "korean_news", "tfidf_keywords")  # the keywords its features build pinned
    kw = kw.filter(pc.and_(pc.equal(kw["dataset"], "korean_news"), pc.less_equal(kw["rank"], 10))).to_pylist()
    assert {r["scope"] for r in kw} == {"doc", "label", "cluster"}
    tokens = read_tokens(store, "tokens_korean_news_kiwi")  # what the tokenizer that produced the terms said
    tags: dict[str, Counter[str]] = {}
    for toks in tokens.values():
        for t in toks:
            tags.setdefault(t.form.lower(), Counter())[t.ptag] += 1
    bad = []
    for r in kw:
        term = r["term"]
        if r["scope"] == "doc":  # in its own document the tokenizer tagged the term as a content word, and
            # not mostly as something else (a homograph such as 배우 "actor" / 배우- "learn" is fine)
            doc_tags = Counter(t.ptag for t in tokens[r["key"]] if t.form.lower() == term)
            forbidden = sum(doc_tags[p] for p in FORBIDDEN)
            if forbidden * 2 > doc_tags.total() or term not in [w.lower() for w in analyst_terms(tokens[r["key"]])]:
                bad.append((r["scope"], r["key"], term, dict(doc_tags)))
        elif term in tags and sum(tags[term][p] for p in FORBIDDEN) > tags[term].total() / 2:
            bad.append((r["scope"], r["key"], term, dict(tags[term])))
    assert not bad, bad[:10]
    # the stems and function words the issue saw before are gone from label and cluster terms
    group_terms = {r["term"] for r in kw if r["scope"] != "doc"}
    assert not group_terms & {"따르", "지나", "위하", "때문", "열리", "있", "하", "되"}


def test_korean_view_keeps_nouns_names_and_numbers_with_their_unit() -> None:
    spec = default_spec("ko")
    terms = spec.analyze("공공부문 16만 명 정규직 전환 때문에 물가가 3.5% 올랐다. 2017년 AI 반도체 수출이 늘었다")
    assert terms == ["공공", "부문", "16만명", "정규직", "전환", "물가", "3.5%", "2017년", "ai", "반도체", "수출"]


def test_english_terms_have_no_clitics(imdb_texts: list[str]) -> None:
    spec = default_spec("en")
    tok = spec.tokenizer()
    raw = [t.form.lower() for text in imdb_texts[:200] for t in tok.tokenize(text)]
    assert {"'s", "n't"} <= set(raw)  # the tokenizer does split them off ...
    terms = [w for text in imdb_texts[:200] for w in spec.analyze(text)]
    assert terms and not set(terms) & CLITICS  # ... and the analyst's view drops them
