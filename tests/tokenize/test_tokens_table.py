"""Stored tokens built column-wise (``tokens_table``) equal the old per-token dict path, for every backend.

The old path was ``Table.from_pylist`` over rows whose ``tokens`` are ``tokens_to_arrow`` dicts;
it stays here as the reference (``_per_token_rows``). ``tokenize_texts`` runs once with the
columnar build and once with the reference patched in, on the same texts and the same fake
clock, so rejects and the per-document budget are compared too. Then an end-to-end run on
real NSMC reviews: a re-tokenize reuses every row and calls no engine.
"""

from __future__ import annotations

import itertools
import types
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlpkit.store import Store
from nlpkit.tokenize import DEFAULT_KO_DICT, get_tokenizer, tokenize_dataset
from nlpkit.tokenize import dataset as tokds
from nlpkit.tokenize.base import Token
from nlpkit.tokenize.dataset import TOKENS_SCHEMA, tokenize_texts, tokens_table, tokens_to_arrow

BACKENDS = ["regex", "words", "chars", "mecab", "kiwi"]
_WORDS = ["원전을", "수주했다", "두산에너빌리티가", "오징어 게임", "에코프로비엠이", "재밌다", "ㅋㅋㅋ", "별로", "The", "movie's",
          "GREAT", "<br />", "10/10", "İstanbul", "3.5", "!!", "...", "😀", "漢字", "\t", "\n"]


def _per_token_rows(ids: Any, shas: Any, fingerprint: str, token_lists: Any) -> pa.Table:
    """The old build: one dict per token, ``Table.from_pylist``."""
    return pa.Table.from_pylist([{"id": i, "text_sha256": s, "fingerprint": fingerprint, "n_tokens": len(t),
                                  "tokens": tokens_to_arrow(t)} for i, s, t in zip(ids, shas, token_lists)],
                                schema=TOKENS_SCHEMA)


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
_doc = st.one_of(
    st.just(""), st.just("   \n "),
    st.lists(st.one_of(st.sampled_from(_WORDS), _text), max_size=30).map(" ".join),
    # long documents: more than one engine slice, so the budget below cuts them
    st.lists(st.sampled_from(_WORDS[:9]), min_size=1, max_size=5).map(lambda ws: " ".join(ws * 700)),
)
_tokens = st.lists(st.builds(Token, _text, st.sampled_from(["NNG", "VV", "SF", ""]), st.sampled_from(["NOUN", "X"]),
                             st.one_of(st.none(), _text), st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1)),
                   max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(_tokens, max_size=6))
def test_tokens_table_equals_the_per_token_build(token_lists):
    ids = [f"d{i}" for i in range(len(token_lists))]
    shas = [f"s{i}" for i in range(len(token_lists))]
    new = tokens_table(ids, shas, "fp", token_lists)
    assert new.schema == TOKENS_SCHEMA
    assert new.equals(_per_token_rows(ids, shas, "fp", token_lists))


def test_tokens_table_refuses_ragged_columns():
    with pytest.raises(ValueError, match="2 ids, 1 shas and 2 token lists"):
        tokens_table(["a", "b"], ["s"], "fp", [[], []])


def _fake_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``time.monotonic()`` of the dataset module is one second later: the budget check is deterministic."""
    tick = itertools.count()
    monkeypatch.setattr(tokds, "time", types.SimpleNamespace(monotonic=lambda: float(next(tick))))


@pytest.fixture(scope="module")
def engines():
    """Skip a backend that is not installed (all of them are in CI's venv)."""
    out = {}
    for name in BACKENDS:
        try:
            tok = get_tokenizer(name) if name in ("regex", "words", "chars") else get_tokenizer(
                name, user_dicts=[str(DEFAULT_KO_DICT)])
            getattr(tok, "warm_up", lambda: None)()
        except ImportError as e:
            out[name] = e
            continue
        out[name] = tok
    return out


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(texts=st.lists(_doc, min_size=1, max_size=6), budget=st.sampled_from([None, 1.5, 0.5]))
def test_tokenize_texts_columnar_equals_per_token_path(backend, engines, monkeypatch, texts, budget):
    tok = engines[backend]
    if isinstance(tok, Exception):
        pytest.skip(f"{backend} not installed: {tok}")
    dicts = [] if backend in ("regex", "words", "chars") else [str(DEFAULT_KO_DICT)]
    spec = {"name": backend, "user_dicts": dicts, "options": {}}
    ids = [f"doc{i}" for i in range(len(texts))]
    shas = [f"sha{i}" for i in range(len(texts))]
    monkeypatch.setattr(tokds, "_GROUP_DOCS", 2)  # several groups per batch: rows concatenated in order
    with monkeypatch.context() as m:
        _fake_clock(m)
        new = tokenize_texts(spec, ids, texts, shas, tok.fingerprint, doc_budget_s=budget)
    with monkeypatch.context() as m:
        _fake_clock(m)
        m.setattr(tokds, "tokens_table", _per_token_rows)
        old = tokenize_texts(spec, ids, texts, shas, tok.fingerprint, doc_budget_s=budget)
    assert new.rows.equals(old.rows) and new.rejects == old.rejects
    assert new.rows.num_rows + len(new.rejects) == len(texts)
    rejected = {r["item"] for r in new.rejects}
    engine = hasattr(tok, "max_chunk_chars")
    for doc_id, text in zip(ids, texts):
        if budget is not None and engine and len(text) > tokds._LONG_DOC_CHARS:
            assert doc_id in rejected  # two slices at least: the fake clock puts it past 1.5 s
    for row in new.rows.to_pylist():  # what is stored is what the backend gives for the text alone
        toks = tok.tokenize(texts[ids.index(row["id"])])
        assert row["n_tokens"] == len(toks) and row["tokens"] == tokens_to_arrow(toks)
    if budget == 0.5 and engine:  # the batch itself is past the budget: every text is tried alone, then refused
        assert all(r["reason"] == "over_budget" for r in new.rejects) and new.rows.num_rows == 0


def _nsmc_rows(shared_data: Path, n: int) -> list[dict[str, str]]:
    with zipfile.ZipFile(shared_data / "nsmc" / "ratings_train.zip") as z:
        name = next(x for x in z.namelist() if x.endswith("ratings_train.txt"))
        lines = z.read(name).decode("utf-8").splitlines()[1:n + 1]
    return [{"id": f"nsmc-{i}", "text": doc} for i, _, doc, _ in ((k, *line.split("\t")) for k, line in enumerate(lines))]


def _write(store: Store, rows: list[dict[str, str]]) -> None:
    with store.write_version("nsmc_sample") as w:
        w.write(pa.Table.from_pylist(rows, schema=pa.schema([("id", pa.string()), ("text", pa.string())])))


@pytest.mark.timeout(600)
def test_real_nsmc_tokens_are_stored_column_wise_and_reused(store: Store, shared_data: Path, monkeypatch):
    pytest.importorskip("mecab_ko")
    rows = _nsmc_rows(shared_data, 3000)
    _write(store, rows)
    monkeypatch.setattr(tokds, "_ROW_GROUP_TOKENS", 10_000)  # several row groups on a small sample
    first = tokenize_dataset(store, "nsmc_sample", "mecab", user_dicts=[DEFAULT_KO_DICT], batch_size=256)
    assert (first.version, first.tokenized, first.reused) == ("v1", 3000, 0)
    tok = get_tokenizer("mecab", user_dicts=[str(DEFAULT_KO_DICT)])
    stored = store.read(first.out_name)
    ids = [r["id"] for r in rows]
    expected = _per_token_rows(ids, [tokds._sha(r["text"]) for r in rows], tok.fingerprint,
                               [tok.tokenize(r["text"]) for r in rows])
    assert stored.sort_by("id").equals(expected.sort_by("id"))
    files = list((store.root / "datasets" / first.out_name / "data").glob("*.parquet"))
    meta = pq.ParquetFile(files[0]).metadata
    assert len(files) == 1 and meta.num_rows == 3000  # one file, one commit
    n_tokens = sum(expected.column("n_tokens").to_pylist())
    assert 2 <= meta.num_row_groups <= n_tokens // 10_000 + 2  # gathered batches, not one row group per batch

    calls = []
    real = type(tok)._analyze
    monkeypatch.setattr(type(tok), "_analyze", lambda self, chunks: calls.append(len(chunks)) or real(self, chunks))
    again = tokenize_dataset(store, "nsmc_sample", "mecab", user_dicts=[DEFAULT_KO_DICT])
    assert (again.written, again.version, again.reused, again.tokenized) == (False, "v1", 3000, 0) and not calls

    rows[7]["text"] += " 진짜 최고의 영화"
    _write(store, rows[:2900])  # one changed, 100 gone
    third = tokenize_dataset(store, "nsmc_sample", "mecab", user_dicts=[DEFAULT_KO_DICT])
    assert (third.version, third.tokenized, third.reused, third.dropped) == ("v2", 1, 2899, 101)
    assert calls  # only the changed review reached the engine
    now = store.read(third.out_name).sort_by("id")
    want = _per_token_rows(ids[:2900], [tokds._sha(r["text"]) for r in rows[:2900]], tok.fingerprint,
                           [tok.tokenize(r["text"]) for r in rows[:2900]]).sort_by("id")
    assert now.equals(want)


_KILLED_WRITER = """
import os, signal, sys
import nlpkit.tokenize.dataset as ds
from nlpkit.store import Store
from nlpkit.tokenize.dataset import plan_tokenize, tokenize_texts, write_tokens

ds._ROW_GROUP_TOKENS = 1  # every batch goes to the version's Parquet file at once
store = Store(sys.argv[1])
plan = plan_tokenize(store, "news", "regex")

def batches():
    for n, (ids, texts, shas) in enumerate(plan.batches(5)):
        if n == 2:  # two row groups written, nothing committed
            os.kill(os.getpid(), signal.SIGKILL)
        yield tokenize_texts(plan.tokenizer, ids, texts, shas, plan.fingerprint)

write_tokens(store, plan, batches())
"""


def test_kill_9_while_a_tokens_version_is_written_leaves_the_last_one_intact(store: Store, news_articles, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from nlpkit.tokenize import tokenize_dataset

    def write_news(n: int) -> None:
        rows = [{"id": a["id"], "text": a["body"]} for a in news_articles[:n]]
        with store.write_version("news") as w:
            w.write(pa.Table.from_pylist(rows, schema=pa.schema([("id", pa.string()), ("text", pa.string())])))

    write_news(10)
    first = tokenize_dataset(store, "news", "regex")
    before = store.read("tokens_news_regex")
    write_news(40)  # 30 new documents to tokenize
    script = tmp_path / "killed.py"
    script.write_text(_KILLED_WRITER)
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "data")], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert store.latest("tokens_news_regex").version == first.version
    assert store.read("tokens_news_regex").equals(before)  # the killed write left nothing visible
    again = tokenize_dataset(store, "news", "regex")  # the next run reuses v1's rows and tokenizes the rest
    assert (again.version, again.reused, again.tokenized) == ("v2", 10, 30)
