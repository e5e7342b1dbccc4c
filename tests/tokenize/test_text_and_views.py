"""Cleaning, chunking, alignment, Token and the views, English backend, sklearn analyzer."""

from __future__ import annotations

import pickle

import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer

from nlpkit.errors import TokenizerError
from nlpkit.tokenize import (
    Token,
    TokenAnalyzer,
    Tokenizer,
    content_words,
    filter_ptags,
    get_tokenizer,
    lemmas,
    morphs,
    nouns,
    pos,
)
from nlpkit.tokenize.text import align, clean, split_chunks


def test_clean_keeps_length_and_removes_hazards():
    text = "a\x00b\x07c\ud800d\ufeffe😀"
    out = clean(text)
    assert len(out) == len(text)
    assert out == "a b c d e😀"


def test_split_chunks_offsets_slice_back(news_articles):
    body = news_articles[0]["body"]
    chunks = split_chunks(body, max_chars=80)
    assert len(chunks) > 5
    for off, chunk in chunks:
        assert body[off:off + len(chunk)] == chunk
        assert chunk == chunk.strip() and 0 < len(chunk) <= 80
    assert split_chunks("") == [] and split_chunks("  \n ") == []


def test_align_restored_morphemes_share_their_source_span():
    text = "수주했다 하는 것"
    spans = align(text, ["수주", "하", "았", "다", "하", "는", "것"])
    assert [text[s:e] for s, e in spans] == ["수주", "했", "했", "다", "하", "는", "것"]


def test_token_is_immutable_and_slotted():
    t = Token("원전", "NNG", "NOUN", None, 0, 2)
    with pytest.raises(AttributeError):
        t.form = "x"  # type: ignore[misc]
    assert not hasattr(t, "__dict__")


def test_views_derive_from_tokens(news_sentences):
    tok = get_tokenizer("kiwi")
    assert isinstance(tok, Tokenizer)
    toks = tok.tokenize(news_sentences[0])
    assert morphs(toks) == [t.form for t in toks]
    assert pos(toks)[0] == (toks[0].form, toks[0].tag)
    assert set(nouns(toks)) <= set(morphs(toks))
    assert all(t.ptag in ("NOUN", "PROPN") for t in filter_ptags(toks, ["NOUN", "PROPN"]))
    content = content_words(toks, stopwords={"기자"})
    assert "기자" not in content and content
    assert len(lemmas(toks)) == len(toks)
    with pytest.raises(ValueError, match="unknown project tag"):
        filter_ptags(toks, ["NOPE"])


def test_get_tokenizer_errors_list_the_choices():
    with pytest.raises(TokenizerError, match="unknown tokenizer 'nope'; choose one of: chars, english, hannanum"):
        get_tokenizer("nope")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['colour'\] for tokenizer 'kiwi'; allowed"):
        get_tokenizer("kiwi", colour=1)
    with pytest.raises(TypeError, match="got one str"):
        next(get_tokenizer("kiwi").tokenize_batch("문장"))


def test_batch_is_lazy_and_one_result_per_input():
    tok = get_tokenizer("kiwi", batch_size=2)
    consumed = []

    def gen():
        for s in ["첫 문장", "", "셋째 문장", "   ", "다섯째"]:
            consumed.append(s)
            yield s

    it = tok.tokenize_batch(gen())
    first = next(it)
    assert first and len(consumed) <= 4  # at most one batch read ahead
    rest = list(it)
    assert [bool(r) for r in [first, *rest]] == [True, False, True, False, True]


def test_english_backend_offsets_stopwords_and_stems():
    text = "The cats weren't running; 3.50 dollars!"
    tok = get_tokenizer("english", remove_stopwords=True, stem=True)
    toks = tok.tokenize(text)
    assert "the" not in morphs(toks)
    for t in toks:
        assert text[t.start:t.end].lower() == t.form
    by_form = {t.form: t for t in toks}
    assert by_form["cats"].lemma == "cat" and by_form["running"].lemma == "run"
    assert by_form["3.50"].ptag == "NUM"
    plain = get_tokenizer("english", lowercase=False)
    assert [t.form for t in plain.tokenize("Hello World")] == ["Hello", "World"]


def test_english_without_nltk_data_does_not_crash(tmp_path, monkeypatch):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    from nlpkit.tokenize.english import EnglishTokenizer

    toks = EnglishTokenizer(remove_stopwords=True, stem=True).tokenize("The dogs are barking loudly.")
    assert [t.form for t in toks][:2] == ["dogs", "barking"]


@pytest.mark.parametrize("view", ["morphs", "nouns", "content", "pos"])
def test_analyzer_in_tfidf_clones_and_pickles(view, news_sentences):
    analyzer = TokenAnalyzer(tokenizer="kiwi", view=view, stopwords="ko")
    vec = TfidfVectorizer(analyzer=analyzer)
    X = vec.fit_transform(news_sentences)
    assert X.shape[0] == len(news_sentences) and X.shape[1] > 20
    cloned = clone(vec)
    assert cloned.analyzer.get_params() == analyzer.get_params()
    restored = pickle.loads(pickle.dumps(vec))
    assert "_tok" not in restored.analyzer.__dict__
    assert abs(restored.transform(news_sentences) - X).max() < 1e-12
    assert list(analyzer.analyze_batch(news_sentences[:3])) == [analyzer(s) for s in news_sentences[:3]]


def test_analyzer_with_jvm_backend_pickles_by_configuration(news_sentences):
    analyzer = TokenAnalyzer(tokenizer="komoran", view="nouns")
    before = analyzer(news_sentences[0])
    blob = pickle.dumps(analyzer)
    assert b"jpype" not in blob.lower()
    assert pickle.loads(blob)(news_sentences[0]) == before


def test_analyzer_rejects_bad_view():
    with pytest.raises(ValueError, match="view must be one of"):
        TokenAnalyzer(view="bogus")("문장")  # type: ignore[arg-type]
