"""JVM tagger calls that can be stopped (issue #20): a chunk over ``time_limit_s`` and a call over its
budget are stopped inside the JVM (nlpkit's helper stops the tagging thread), the text fails with
reason ``timeout``, and every other text keeps exactly the tokens it gets alone.

The adversarial input is real: Kkma takes 67 s on ``"가" * 40`` and never returns on ``"가" * 100``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from nlpkit.errors import TokenizeFailure
from nlpkit.store import Store
from nlpkit.tokenize import tokenize_dataset
from nlpkit.tokenize.core import FailedTokens
from nlpkit.tokenize.dataset import tokenize_within

from tests.tokenize.conftest import JVM_BACKENDS
from tests.tokenize.test_hostile_input import _uncached as _tok

pytestmark = pytest.mark.jvm
BOMB = "가" * 40


@pytest.fixture(scope="module")
def kkma():
    return _tok("kkma", time_limit_s=2.0)


def test_kkma_repeated_syllables_are_stopped_and_fail_with_reason_timeout(kkma):
    with pytest.raises(TokenizeFailure, match="timeout: over the limit of 2000 ms of CPU") as info:
        kkma.tokenize(BOMB)
    assert info.value.reason == "timeout"


def test_kkma_bomb_never_changes_the_other_texts(kkma, news_sentences: list[str]):
    texts = news_sentences[:6]
    alone = [kkma.tokenize(t) for t in texts]
    mixed = [texts[0], texts[1], "가" * 100, texts[2], f"{texts[3]} {BOMB}", texts[4], texts[5]]
    out = list(kkma.tokenize_batch(mixed))
    assert len(out) == len(mixed)
    assert isinstance(out[2], FailedTokens) and out[2].error.reason == "timeout"
    assert isinstance(out[4], FailedTokens) and out[4].error.reason == "timeout"
    assert [out[i] for i in (0, 1, 3, 5, 6)] == [alone[i] for i in (0, 1, 2, 4, 5)]
    assert [kkma.tokenize(t) for t in texts] == alone  # the stopped analyser left nothing behind


@pytest.mark.parametrize("name", JVM_BACKENDS)
def test_a_call_over_its_budget_is_stopped_and_the_engine_stays_right(name: str, news_sentences: list[str]):
    """Stopping a tagger thread in the middle of any backend leaves the engine giving the same tokens."""
    tok = _tok(name)
    before = [tok.tokenize(t) for t in news_sentences]
    # far more work than any warm JVM does between two checks of the budget (in the whole suite, with Okt's JIT
    # warm, 12 texts once finished before the first check)
    long_texts = [" ".join((news_sentences[i:] + news_sentences[:i]) * 4) for i in range(24)]
    with tok.budget(0.001):
        out = list(tok.tokenize_batch(long_texts))
    assert len(out) == len(long_texts)
    failed = [r for r in out if isinstance(r, FailedTokens)]
    assert failed and all(r.error.reason == "timeout" and "budget" in str(r.error) for r in failed)
    assert [tok.tokenize(t) for t in news_sentences] == before
    assert tok.call_budget_s is None  # the budget ends with the block


def test_tokenize_within_passes_the_remaining_budget_to_the_engine(news_articles: list[dict]):
    """A long document stops when its budget runs out inside the engine, not one slice later."""
    tok = _tok("hannanum")
    doc = " ".join(a["body"] for a in news_articles[:40])
    assert len(doc) > 40_000
    res = tokenize_within(tok, doc, 0.5)
    assert isinstance(res, FailedTokens) and res.error.reason == "over_budget"
    # stopped inside the engine ("budget of", "over the 0.5 s budget") or, when a slice ends right at the budget
    # on a fast machine, between slices ("took over 0.5 s"): either way long before the end of the document
    message = str(res.error)
    assert any(m in message for m in ("budget of", "over the 0.5 s budget", "took over 0.5 s")), message


@pytest.mark.parametrize("name", ["komoran", "kkma", "okt", "hannanum"])
def test_astral_characters_cross_the_jvm_whole(name: str):
    """Emoji and CJK Ext-B come back as themselves (Komoran and Kkma gave two U+FFFD halves)."""
    tok = _tok(name)
    text = "오늘 😀 기분이 좋다 𠀀 한자 \ue000 사용 🇰🇷."
    toks = tok.tokenize(text)
    assert not any("\ufffd" in t.form for t in toks)
    astral = [t for t in toks if any(ord(c) > 0xFFFF for c in t.form)]
    assert astral and all(text[t.start:t.end] == t.form for t in astral)  # offsets point at the character
    forms = "".join(t.form for t in toks)
    for ch in ("😀", "𠀀", "🇰", "\ue000"):
        assert ch in forms


def test_tokenize_dataset_rejects_the_bomb_and_keeps_the_rest(store: Store):
    schema = pa.schema([("id", pa.string()), ("text", pa.string())])
    with store.write_version("news") as w:
        w.write(pa.Table.from_pylist([{"id": "a", "text": "오늘 날씨가 좋다."}, {"id": "bomb", "text": BOMB},
                                      {"id": "b", "text": "바나나는 노랗다."}], schema=schema))
    res = tokenize_dataset(store, "news", "kkma", options={"warn_slow": False, "time_limit_s": 2.0})
    assert (res.tokenized, res.rejected) == (2, 1)
    (reject,) = store.read(res.out_name, "rejects").to_pylist()
    assert reject["item"] == "bomb" and reject["reason"] == "timeout"
    assert {r["id"] for r in store.read(res.out_name).to_pylist()} == {"a", "b"}


def test_cli_tokens_text_stops_the_bomb_line_and_keeps_lines_aligned(tmp_path: Path):
    from nlpkit.cli import app

    src = tmp_path / "in.txt"
    src.write_text(f"오늘 날씨가 좋다.\n{BOMB}\n바나나는 노랗다.\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["tokens", "text", "-t", "kkma", "-o", "warn_slow=false", "-o", "time_limit_s=2",
                                   "--input", str(src)])
    assert res.exit_code == 1, res.output
    lines = res.stdout.splitlines()
    assert len(lines) == 3 and lines[1] == "" and lines[2].startswith("바나나/")
    assert "warning: line 2:" in res.stderr and "timeout" in res.stderr
