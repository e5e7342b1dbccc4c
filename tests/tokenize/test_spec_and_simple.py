"""TermSpec (fingerprint per field, JSON round-trip, stale dictionaries) and the rule-based backends."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpkit.errors import TokenizerError
from nlpkit.rnn.data import get_token_fn
from nlpkit.tokenize import DEFAULT_KO_DICT, TermSpec, default_spec, get_tokenizer

CHANGES = {"backend": "mecab", "options": (("norm", True),), "view": "nouns", "stopwords": "en",
           "lowercase": False, "drop_punct": False, "ngram_max": 2, "char_ngrams": (2, 3)}


def test_fingerprint_changes_with_each_field(tmp_path):
    d = tmp_path / "a.tsv"
    shutil.copy(DEFAULT_KO_DICT, d)
    base = TermSpec(backend="kiwi", user_dicts=(str(d),), view="content", stopwords="ko")
    seen = {base.fingerprint}
    for name, value in CHANGES.items():
        changed = dataclasses.replace(base, **{name: value})
        assert changed.fingerprint not in seen, name
        seen.add(changed.fingerprint)
    other = tmp_path / "b.tsv"
    shutil.copy(DEFAULT_KO_DICT, other)
    assert base.with_options(user_dicts=(str(other),)).fingerprint not in seen
    d.write_text(d.read_text("utf-8") + "드루킹킹\tNNP\n", "utf-8")  # contents, not just the path
    assert base.stale_dicts() == [str(d)] and base.refreshed().fingerprint not in seen


@settings(max_examples=60, deadline=None)
@given(view=st.sampled_from(["morphs", "nouns", "content", "lemmas", "pos"]),
       stop=st.sampled_from([None, "ko", "en"]), lower=st.booleans(), n=st.integers(1, 4),
       chars=st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(3, 5))),
       opts=st.dictionaries(st.sampled_from(["norm", "stem"]), st.booleans()))
def test_json_round_trip(view, stop, lower, n, chars, opts):
    spec = TermSpec(backend="okt", options=opts, user_dicts=(str(DEFAULT_KO_DICT),), view=view, stopwords=stop,
                    lowercase=lower, ngram_max=n, char_ngrams=chars)
    back = TermSpec.from_json(spec.to_json())
    assert back == spec and back.fingerprint == spec.fingerprint and hash(back) == hash(spec)


def test_bad_specs_are_one_line_errors():
    with pytest.raises(TokenizerError, match="view must be one of"):
        TermSpec(backend="kiwi", view="verbs")
    with pytest.raises(TokenizerError, match="unknown key"):
        TermSpec.from_dict({"backend": "kiwi", "tokenizer": "kiwi"})
    with pytest.raises(TokenizerError, match="not valid JSON"):
        TermSpec.from_json("{")
    with pytest.raises(TokenizerError, match="takes no user dictionary"):
        get_tokenizer("words", user_dicts=[DEFAULT_KO_DICT])


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80) | st.sampled_from(
    ["It's <br />GREAT, 10/10", "İstanbul ÇOK güzel", "영화 재밌다!!  \u3000ㅋㅋ", "a\x1cb\x1fc\u2028d"])


@settings(max_examples=300, deadline=None)
@given(text)
def test_simple_backends_give_the_rnn_tokens_with_offsets(s):
    for name in ("words", "chars", "whitespace"):
        toks = get_tokenizer(name).tokenize(s)
        assert [t.form for t in toks] == get_token_fn(name)([s])[0], name
        for t in toks:
            assert s[t.start:t.end].lower() == t.form.lower() or name == "words"


def test_regex_backend_is_scikit_learns_token_pattern(news_sentences):
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyze = TfidfVectorizer().build_analyzer()
    tok = get_tokenizer("regex")
    for doc in [*news_sentences[:200], "The OECD's 2018 report: GDP ROSE 3.1% (İzmir)"]:
        assert [t.form for t in tok.tokenize(doc)] == analyze(doc)


def test_korean_default_spec_keeps_dictionary_terms_and_drops_function_words():
    spec = default_spec("ko")
    assert spec.stopwords == "ko" and spec.user_dicts == (str(DEFAULT_KO_DICT),)
    terms = spec.analyze("드루킹 씨는 5억 원을 받았고 혐의가 없다고 말했다. 3명이 대해 거론했다.")
    assert "드루킹" in terms and "혐의" in terms
    assert not {"씨", "억", "원", "받", "없", "명", "대하", "거", "만"} & set(terms)
