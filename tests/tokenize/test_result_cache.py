"""The process-wide result cache stays within its token bound (a 200k-review build must not keep ~1 GB of Tokens)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nlpkit.tokenize.cache import ResultCache


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 6)), max_size=40), st.integers(0, 12))
def test_cache_holds_at_most_max_tokens_and_keeps_the_newest(puts, max_tokens):
    cache = ResultCache(max_entries=5, max_tokens=max_tokens)
    for chunk, n in puts:
        cache.put(("fp", chunk), ("t",) * n)
        held = [cache._data[k] for k in cache._data]
        assert sum(map(len, held)) == cache._tokens <= max_tokens and len(held) <= 5
    if puts and puts[-1][1] <= max_tokens:
        assert cache.get(("fp", puts[-1][0])) == ("t",) * puts[-1][1]  # the newest entry that fits is kept
    cache.clear()
    assert len(cache) == 0 and cache._tokens == 0
