"""Cleaning steps, each proven on real IMDB-style input (HTML, regex, stopwords)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpkit.nltk_support import NltkDataError, english_stopwords, find_resource
from nlpkit.text.clean import CleanOptions, TextCleaner, letters_only, normalize_whitespace, strip_html


@pytest.fixture(scope="module")
def nltk_dir(shared_data: Path) -> Path:
    return shared_data / "nltk_data"


@pytest.fixture(scope="module")
def cleaner(nltk_dir: Path) -> TextCleaner:
    return TextCleaner(nltk_data=nltk_dir)


def test_strip_html_removes_br_tags_and_decodes_entities() -> None:
    out = strip_html("Loved it.<br /><br />The ending &amp; the <i>score</i>!")
    assert "<" not in out and "br" not in out
    assert normalize_whitespace(out) == "Loved it. The ending & the score !"
    assert strip_html("word<br />word").split() == ["word", "word"]  # tags separate words


@pytest.mark.parametrize(
    "text, expected",
    [
        ("It's 10/10!", "it s "),
        ("A~Z [brackets] ^carets^ _under_ `tick`", "a z brackets carets under tick "),
        ("Ünïcode café", " n code caf "),
        ("MiXeD CaSe", "mixed case"),
    ],
)
def test_letters_only_keeps_only_a_to_z(text: str, expected: str) -> None:
    # The class notes' [^a-zA~Z] kept '[', ']', '^', '_', '`', '~' (the ASCII range A..~); these must go.
    assert letters_only(text) == expected


def test_stopwords_list_is_nltk_english(nltk_dir: Path) -> None:
    words = english_stopwords(nltk_dir)
    assert len(words) == 179
    assert {"the", "a", "not", "don", "t", "wasn"} <= words
    assert "movie" not in words


def test_cleaner_uses_the_one_shipped_english_list_which_is_nltks(nltk_dir: Path) -> None:
    # one stopword source per language (issue #13): dictionaries/en/stopwords.txt, the same 179 words as NLTK's
    from nlpkit.tokenize import load_stopwords

    shipped = load_stopwords("en")
    assert TextCleaner().stopwords == shipped == english_stopwords(nltk_dir)
    assert TextCleaner(nltk_data=Path("/nonexistent")).stopwords == shipped  # no NLTK data needed any more


def test_stopwords_really_removed(cleaner: TextCleaner) -> None:
    text = "This was NOT the best movie of all time, but I wasn't bored.<br />Don't miss it!"
    out = cleaner(text).split()
    assert out == ["best", "movie", "time", "bored", "miss"]
    assert not set(out) & cleaner.stopwords


def test_options_turn_steps_off(nltk_dir: Path) -> None:
    keep = TextCleaner(nltk_data=nltk_dir, options=CleanOptions(stopwords=False))
    assert keep("The movie<br />was 10/10") == "the movie was"
    raw = TextCleaner(options=CleanOptions(html=False, letters_only=False, stopwords=False))
    assert raw("The <b>Movie</b>!") == "the <b>movie</b>!"


def test_clean_batch_is_lazy_and_keeps_order(cleaner: TextCleaner) -> None:
    out = cleaner.clean_batch(iter(["Great film", "Awful plot", "Great film"]))
    assert next(out) == "great film"
    assert list(out) == ["awful plot", "great film"]


def test_non_string_input_is_a_clear_error(cleaner: TextCleaner) -> None:
    with pytest.raises(TypeError, match="text must be str, got bytes"):
        cleaner(b"bytes")  # type: ignore[arg-type]


def test_missing_nltk_directory_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(NltkDataError, match="does not exist; set nltk_data"):
        find_resource("corpora/stopwords", nltk_data=tmp_path / "nope")


def test_missing_stopwords_say_how_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nltk

    monkeypatch.setattr(nltk.data, "path", [])  # nothing installed anywhere NLTK looks
    empty = tmp_path / "nltk_data"
    empty.mkdir()
    with pytest.raises(NltkDataError, match=r"not found .*NLTK_DATA.*nltk.downloader stopwords"):
        english_stopwords(empty / ".")  # a fresh cache key
    assert "the" in TextCleaner(nltk_data=empty).stopwords  # the cleaner's list ships with nlpkit


def test_unknown_resource_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="expected one of corpora/stopwords"):
        find_resource("corpora/wordnet")
