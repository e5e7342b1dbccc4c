"""Reading stored tokens column-wise (bounded memory) gives exactly what the per-token dict walk gave."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpkit.rnn.token_source import _stored_units, keeps
from nlpkit.tokenize.dataset import TOKEN_TYPE

_tok = st.fixed_dictionaries({"form": st.text(min_size=1, max_size=4), "tag": st.sampled_from(["NNG", "VV", "JKS"]),
                              "ptag": st.sampled_from(["NOUN", "VERB", "PART"]), "lemma": st.none(),
                              "start": st.just(0), "end": st.just(1)})


@settings(max_examples=60, deadline=None)
@given(docs=st.lists(st.lists(_tok, max_size=6), max_size=8), fmt=st.sampled_from(["form", "form_tag"]),
       view=st.sampled_from(["all", "content"]), pick=st.integers(0, 255))
def test_column_wise_read_equals_the_dict_walk(docs, fmt, view, pick) -> None:  # type: ignore[no-untyped-def]
    ids = [f"d{i}" for i in range(len(docs))]
    table = pa.table({"id": pa.array(ids, pa.string()), "tokens": pa.array(docs, pa.list_(TOKEN_TYPE))})
    wanted = {d for i, d in enumerate(ids) if pick >> (i % 8) & 1}
    got = _stored_units(table, fmt, view, wanted)
    unit = (lambda t: f"{t['form']}/{t['tag']}") if fmt == "form_tag" else (lambda t: t["form"])
    want = {d: [unit(t) for t in toks if keeps(view, t["ptag"])] for d, toks in zip(ids, docs) if d in wanted}
    assert got == want
