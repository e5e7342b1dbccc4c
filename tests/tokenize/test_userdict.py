"""User dictionaries: format errors with file:line, counts, sha256, and terms kept whole on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpkit.errors import DictionaryError
from nlpkit.tokenize import DEFAULT_KO_DICT, get_tokenizer, load_stopwords, load_user_dict

from .conftest import DICT_TERMS


def test_project_dictionary_parses_with_count_and_sha():
    d = load_user_dict(DEFAULT_KO_DICT)
    forms = {e.form for e in d.entries}
    assert len(d) == len(d.entries) >= 30
    assert set(DICT_TERMS) <= forms
    assert len(d.sha256) == 64


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("좋은말\tNNP\n나쁜줄\n", r"bad\.tsv:2: expected 'form<TAB>tag"),
        ("# c\n\n단어\tXYZ\n", r"bad\.tsv:3: unknown tag 'XYZ'"),
        ("단어\tNNP\tabc\n", r"bad\.tsv:1: score 'abc' is not a number"),
        ("\tNNP\n", r"bad\.tsv:1: empty form"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, content: str, match: str):
    p = tmp_path / "bad.tsv"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(DictionaryError, match=match):
        load_user_dict(p)


def test_missing_and_non_utf8_files(tmp_path: Path):
    with pytest.raises(DictionaryError, match="cannot read user dictionary"):
        load_user_dict(tmp_path / "nope.tsv")
    p = tmp_path / "euckr.tsv"
    p.write_bytes("단어\tNNP\n".encode("euc-kr"))
    with pytest.raises(DictionaryError, match="not UTF-8"):
        load_user_dict(p)


def test_dictionary_terms_stay_whole(dict_tokenizer):
    texts = [f"지난해 {term}이 주목받았고 올해도 {term}에 대한 관심이 크다." for term in DICT_TERMS]
    for term, text, toks in zip(DICT_TERMS, texts, dict_tokenizer.tokenize_batch(texts)):
        hits = [t for t in toks if t.form.split() == term.split()]
        assert len(hits) == 2, (dict_tokenizer.name, [(t.form, t.tag) for t in toks])
        for t in hits:
            assert text[t.start:t.end] == t.form
            assert t.ptag in ("NOUN", "PROPN")


def test_terms_whole_in_real_news_context(dict_tokenizer, news_articles):
    bodies = [a["body"] for a in news_articles if "최저임금" in a["body"]][:2]
    assert bodies
    sents = [s for b in bodies for s in b.split("\n") if "최저임금" in s][:4]
    for s, toks in zip(sents, dict_tokenizer.tokenize_batch(sents)):
        assert sum(t.form == "최저임금" for t in toks) == s.count("최저임금"), s


def test_dictionary_changes_fingerprint(tmp_path: Path):
    other = tmp_path / "other.tsv"
    other.write_text("두산에너빌리티\tNNP\n", encoding="utf-8")
    plain = get_tokenizer("kiwi")
    with_dict = get_tokenizer("kiwi", user_dicts=[other])
    assert plain.fingerprint != with_dict.fingerprint
    assert with_dict.config["dict_sha256"] == load_user_dict(other).sha256
    other.write_text("두산에너빌리티\tNNP\n에코프로비엠\tNNP\n", encoding="utf-8")
    assert get_tokenizer("kiwi", user_dicts=[other]).fingerprint != with_dict.fingerprint


def test_stopword_lists():
    ko = load_stopwords("ko")
    en = load_stopwords("en")
    assert {"것", "수", "기자"} <= ko
    assert {"the", "and"} <= en
    with pytest.raises(DictionaryError, match="cannot read stopword list"):
        load_stopwords("xx")


def test_dictionaries_folder_lookup(monkeypatch, tmp_path: Path):
    """A source checkout's folder, else the copy a wheel installs under <prefix>/share; never the environment."""
    from nlpkit.tokenize import userdict

    monkeypatch.setenv("NLPKIT_DICTIONARIES_DIR", str(tmp_path))  # the library reads no environment
    assert userdict._dictionaries_dir() == Path(userdict.__file__).resolve().parents[2] / "dictionaries"
    # an installed package (no checkout folder next to it) finds <sys.prefix>/share/nlpkit/dictionaries
    fake_pkg = tmp_path / "site" / "nlpkit" / "tokenize" / "userdict.py"
    fake_pkg.parent.mkdir(parents=True)
    fake_pkg.touch()
    shared = tmp_path / "prefix" / "share" / "nlpkit" / "dictionaries"
    shared.mkdir(parents=True)
    monkeypatch.setattr(userdict, "__file__", str(fake_pkg))
    monkeypatch.setattr(userdict.sys, "prefix", str(tmp_path / "prefix"))
    assert userdict._dictionaries_dir() == shared
