"""Every Korean backend on the same real news sentences: shape, offsets, tags, hazards."""

from __future__ import annotations

import threading

import pytest

from nlpkit.tokenize import PTAGS, Token, get_tokenizer, nouns
from nlpkit.tokenize.tagset import BACKEND_FAMILY, TAGSETS

from .conftest import JVM_BACKENDS

HAZARDS = [
    "",
    "   \n\t ",
    "NUL\x00바이트와\x07제어\x1b문자",
    "외톨이 서로게이트 \ud800 와 \udfff 끝",
    "이모지 😀👍🏽 와 한자 大韓民國 國會 혼합 mixed 스크립트 123",
    "\u200b\ufeff폭 없는 문자",
    "!!!???...",
    "ㅋㅋㅋㅋ ㅠㅠ",
]


def _check_offsets(text: str, toks: list[Token]) -> None:
    last = 0
    for t in toks:
        assert 0 <= t.start <= t.end <= len(text), t
        assert t.start >= last or t.start >= last - 4, (t, last)  # monotone up to shared restored spans
        last = max(last, t.start)
        assert t.ptag in PTAGS


def test_batch_matches_single_and_keeps_order(korean_tokenizer, news_sentences):
    sents = news_sentences if korean_tokenizer.name != "kkma" else news_sentences[:8]
    batch = list(korean_tokenizer.tokenize_batch(sents))
    assert len(batch) == len(sents)
    for text, toks in zip(sents, batch):
        assert toks, text
        assert toks == korean_tokenizer.tokenize(text)
        _check_offsets(text, toks)


def test_nouns_slice_back_to_source(korean_tokenizer, news_sentences):
    sents = news_sentences if korean_tokenizer.name != "kkma" else news_sentences[:8]
    n_nouns = 0
    bad = []
    for text, toks in zip(sents, korean_tokenizer.tokenize_batch(sents)):
        for t in toks:
            if t.ptag in ("NOUN", "PROPN") and t.form in text:
                n_nouns += 1
                if text[t.start:t.end] != t.form:
                    bad.append((t, text[t.start:t.end]))
    assert n_nouns > len(sents) * 2
    # kiwi gives offsets and mecab/okt return surfaces: exact. Komoran, Hannanum and Kkma restore
    # morphemes and are aligned after the fact (measured on the corpus: 99.7-99.9 % of nouns exact).
    allowed = 0 if korean_tokenizer.name in ("kiwi", "mecab", "okt") else n_nouns // 100
    assert len(bad) <= allowed, bad[:5]


def test_surface_tokens_slice_back(korean_tokenizer, news_sentences):
    """Every token whose form occurs in the text at its offsets slices back; most tokens do."""
    exact = total = 0
    for text, toks in zip(news_sentences[:8], korean_tokenizer.tokenize_batch(news_sentences[:8])):
        for t in toks:
            total += 1
            exact += text[t.start:t.end] == t.form
    assert exact / total > 0.6, f"{korean_tokenizer.name}: only {exact}/{total} tokens slice back"


def test_every_emitted_tag_is_in_the_mapping_table(korean_tokenizer, news_sentences):
    table = TAGSETS[BACKEND_FAMILY[korean_tokenizer.name]]
    tags = {t.tag for toks in korean_tokenizer.tokenize_batch(news_sentences[:8]) for t in toks}
    unknown = {t for t in tags if t not in table and t.split("+")[0].split("-")[0] not in table}
    assert not unknown, f"{korean_tokenizer.name} emits unmapped tags {unknown}"


def test_hazardous_inputs_never_crash_nor_change_output_count(korean_tokenizer):
    out = list(korean_tokenizer.tokenize_batch(HAZARDS))
    assert len(out) == len(HAZARDS)
    assert out[0] == [] and out[1] == []
    for text, toks in zip(HAZARDS, out):
        _check_offsets(text, toks)
    assert "바이트와" in "".join(t.form for t in out[2]) or any("바이트" in t.form for t in out[2])


def test_long_document_is_chunked_with_correct_offsets(korean_tokenizer, news_articles):
    if korean_tokenizer.name == "kkma":
        pytest.skip("kkma: long documents covered by the 1 MB test of a fast backend (speed)")
    body = news_articles[5]["body"]
    toks = korean_tokenizer.tokenize(body)
    _check_offsets(body, toks)
    assert toks[-1].end > len(body) * 0.9
    noun_hits = [t for t in toks if t.ptag in ("NOUN", "PROPN") and t.form in body]
    exact = sum(body[t.start:t.end] == t.form for t in noun_hits)
    assert exact >= 0.98 * len(noun_hits)


@pytest.mark.parametrize(("name", "size"), [("kiwi", 1_000_000), ("mecab", 300_000), ("komoran", 100_000)])
def test_large_input(name, size, news_articles, mecab_cache):
    """1 MB (Kiwi; the others on a slice to keep the suite short): chunked, offsets intact, nothing lost."""
    extra = {"cache_dir": str(mecab_cache)} if name == "mecab" else {}
    tok = get_tokenizer(name, cache=False, **extra)
    text = "\n".join(a["body"] for a in news_articles)[:size]
    assert len(text) == size
    toks = tok.tokenize(text)
    assert len(toks) > size // 10
    assert toks[-1].end <= len(text)
    tail = [t for t in toks[-2000:] if t.ptag == "NOUN" and t.form in text]
    assert sum(text[t.start:t.end] == t.form for t in tail) >= 0.99 * len(tail)


@pytest.mark.parametrize("name", ["okt", "komoran", "kkma"])
def test_java_batch_helper_gives_the_naive_tokens(name, news_sentences):
    opts = {"norm": True, "stem": True} if name == "okt" else {"warn_slow": False} if name == "kkma" else {}
    sents = news_sentences[:8] if name == "kkma" else news_sentences
    fast = get_tokenizer(name, cache=False, **opts)
    naive = get_tokenizer(name, cache=False, helper=False, **opts)
    assert list(fast.tokenize_batch(sents)) == list(naive.tokenize_batch(sents))


def test_okt_stem_fills_lemma_and_keeps_surface():
    tok = get_tokenizer("okt", norm=True, stem=True)
    text = "이것도 되나욬ㅋㅋ 정말 좋았다"
    toks = tok.tokenize(text)
    verbs = [t for t in toks if t.tag in ("Verb", "Adjective")]
    assert any(t.lemma and t.lemma.endswith("다") and t.lemma != t.form for t in verbs), toks
    assert [t.form for t in toks][:3] == ["이", "것", "도"]


def test_concurrent_hannanum_calls_are_serialized(news_sentences):
    tok = get_tokenizer("hannanum", cache=False)
    expected = [tok.tokenize(s) for s in news_sentences[:6]]
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = [tok.tokenize(s) for s in news_sentences[:6]]
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert all(results[i] == expected for i in range(4))


def test_jvm_backends_share_one_jvm():
    import jpype

    from nlpkit.tokenize.jvm import jvm_info

    for name in JVM_BACKENDS:
        get_tokenizer(name, **({"warn_slow": False} if name == "kkma" else {})).warm_up()
    assert jpype.isJVMStarted()
    info = jvm_info()
    assert info["started"] and info["helper"]


def test_kkma_warns_that_it_is_slow():
    from nlpkit.tokenize.konlpy_backends import KkmaTokenizer

    with pytest.warns(UserWarning, match="kkma tokenizer is slow"):
        KkmaTokenizer()


def test_nouns_view_on_real_text(korean_tokenizer, news_sentences):
    got = nouns(korean_tokenizer.tokenize(news_sentences[0]))
    assert got and all(g in news_sentences[0] or korean_tokenizer.name in ("kkma",) for g in got[:3])
