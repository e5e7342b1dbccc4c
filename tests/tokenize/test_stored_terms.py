"""Terms streamed from a stored tokens dataset (column-wise, a chunk at a time) equal the per-token walk,
in the order asked for, and hold far less memory than building every Token of the corpus at once."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlpkit.datasets.imdb import ImdbOptions, build_imdb, sample_tarball
from nlpkit.store import Store
from nlpkit.text.clean import CleanOptions, TextCleaner
from nlpkit.tokenize.dataset import read_tokens, tokenize_dataset
from nlpkit.tokenize.spec import TermSpec
from nlpkit.tokenize.stored_terms import iter_stored_terms

SPECS = [TermSpec(backend="regex", ngram_max=2), TermSpec(backend="words", view="pos"),
         TermSpec(backend="words", stopwords="en", drop_punct=False, char_ngrams=(2, 3)),
         TermSpec(backend="words", stopwords="en", ngram_max=2)]  # forms only, punctuation dropped column-wise


@pytest.fixture(scope="module")
def tokens_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, list[str]]:
    """120 real IMDB reviews per folder (600 labelled + 120 unsup) tokenized with regex and words."""
    tmp = tmp_path_factory.mktemp("stored_terms")
    src = sample_tarball(shared_data / "imdb" / "aclImdb_v1.tar.gz", tmp / "slice.tar.gz", per_folder=120)
    store = Store(tmp / "data")
    build_imdb(store, src, cleaner=TextCleaner(options=CleanOptions(stopwords=False)), options=ImdbOptions())
    for backend in ("regex", "words"):
        tokenize_dataset(store, "imdb", backend)
    return store, [str(d) for d in store.read("imdb", columns=["id"]).column("id").to_pylist()]


@pytest.mark.parametrize("spec", SPECS, ids=["regex-bigrams", "words-pos", "words-stop-chars", "words-nopunct"])
def test_streamed_terms_equal_the_token_walk(tokens_store: tuple[Store, list[str]], spec: TermSpec) -> None:
    store, ids = tokens_store
    name = f"tokens_imdb_{spec.backend}"
    expected = {doc: spec.terms(toks) for doc, toks in read_tokens(store, name).items()}
    got = list(iter_stored_terms(store, name, spec, ids, chunk=37))
    assert got == [expected[d] for d in ids]
    assert sum(map(len, got)) > 100_000  # real reviews, not a toy


@pytest.fixture(scope="module")
def regex_terms(tokens_store: tuple[Store, list[str]]) -> dict[str, list[str]]:
    return {doc: SPECS[0].terms(toks) for doc, toks in read_tokens(tokens_store[0], "tokens_imdb_regex").items()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), chunk=st.integers(1, 300))
def test_any_subset_order_and_chunk_gives_the_same_terms(tokens_store: tuple[Store, list[str]],
                                                         regex_terms: dict[str, list[str]],
                                                         data: st.DataObject, chunk: int) -> None:
    store, ids = tokens_store
    spec = SPECS[0]
    wanted = data.draw(st.lists(st.sampled_from([*ids, "no_such_doc"]), max_size=80))  # repeats and unknown ids too
    reference = regex_terms
    got = list(iter_stored_terms(store, "tokens_imdb_regex", spec, wanted, chunk=chunk))
    assert got == [reference.get(d, []) for d in wanted]  # an id without tokens is an empty document


def test_an_older_version_is_read_when_asked(tokens_store: tuple[Store, list[str]]) -> None:
    store, ids = tokens_store
    spec = SPECS[0]
    first = store.latest("tokens_imdb_regex").version
    assert list(iter_stored_terms(store, "tokens_imdb_regex", spec, ids[:5], version=first)) == \
        list(iter_stored_terms(store, "tokens_imdb_regex", spec, ids[:5]))
    with pytest.raises(ValueError, match="chunk must be >= 1"):
        next(iter_stored_terms(store, "tokens_imdb_regex", spec, ids[:5], chunk=0))


def test_streaming_holds_a_chunk_not_the_corpus(tokens_store: tuple[Store, list[str]]) -> None:
    """The memory promise, checked with tracemalloc on 720 real reviews: consuming the terms one document at a
    time (as the TF-IDF counter does) peaks well below building every Token first (the old read_tokens path)."""
    store, ids = tokens_store
    spec = SPECS[0]

    def peak(fn) -> int:  # type: ignore[no-untyped-def]
        tracemalloc.start()
        try:
            fn()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    def streamed() -> None:
        for terms in iter_stored_terms(store, "tokens_imdb_regex", spec, ids, chunk=50):
            assert terms is not None

    def all_at_once() -> None:
        by_id = {doc: spec.terms(toks) for doc, toks in read_tokens(store, "tokens_imdb_regex").items()}
        assert len(by_id) == len(ids)

    assert peak(streamed) * 3 < peak(all_at_once)


def test_current_tokens_only_when_built_from_the_latest_source_with_this_tokenizer(
        tokens_store: tuple[Store, list[str]], tmp_path: Path) -> None:
    from nlpkit.tokenize.stored_terms import current_tokens

    store, _ = tokens_store
    latest = store.latest("tokens_imdb_regex").version
    assert current_tokens(store, "imdb", "regex") == latest
    assert current_tokens(store, "imdb", "regex", text_column="clean_text") is None  # other column
    assert current_tokens(store, "imdb", "chars") is None  # never built
    assert current_tokens(store, "no_such_dataset", "regex") is None
    # a new source version (one review changed) is not covered until the tokenize stage updates the tokens
    copy = Store(tmp_path / "data")
    table = store.read("imdb")
    with copy.write_version("imdb") as w:
        w.write(table)
    tokenize_dataset(copy, "imdb", "regex")
    assert current_tokens(copy, "imdb", "regex") == copy.latest("tokens_imdb_regex").version
    texts = table.column("text").to_pylist()
    texts[0] = texts[0] + " An added sentence."
    with copy.write_version("imdb") as w:
        w.write(table.set_column(table.schema.get_field_index("text"), "text", pa.array(texts, pa.string())))
    assert current_tokens(copy, "imdb", "regex") is None
    res = tokenize_dataset(copy, "imdb", "regex")
    assert (res.tokenized, current_tokens(copy, "imdb", "regex")) == (1, res.version)
