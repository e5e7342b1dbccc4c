"""Language models (shapes, tying, TBPTT learning on real text) and sampling (temperature, top-k, top-p,
banned tokens, sentence stops, seeds)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

from nlpkit.errors import ModelError
from nlpkit.rnn.lm import LMConfig, RNNLanguageModel, detach_state
from nlpkit.rnn.lm_train import evaluate_lm, load_lm, train_lm
from nlpkit.rnn.sampling import (apply_temperature, char_sentence_end, generate, sample_next, sample_tokens,
                                 sentence_stop, top_k_filter, top_p_filter)
from nlpkit.rnn.vocab import Vocab
from nlpkit.rnn.temperature import entropy, plot_temperature
from nlpkit.rnn.train_loop import TrainOptions


@pytest.mark.parametrize("arch", ["lstm", "gru"])
@pytest.mark.parametrize("tie", [True, False])
@pytest.mark.parametrize("layer_norm", [True, False])
def test_lm_shapes_state_and_gradients(arch: str, tie: bool, layer_norm: bool) -> None:
    model = RNNLanguageModel(LMConfig(vocab_size=40, arch=arch, embed_dim=8, hidden_size=12, tie_weights=tie,
                                      layer_norm=layer_norm))
    logits, state = model(torch.randint(0, 40, (3, 7)))
    assert logits.shape == (3, 7, 40)
    assert (model.decoder.weight is model.embedding.weight) == tie
    logits2, _ = model(torch.randint(0, 40, (3, 5)), detach_state(state))
    logits2.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_char_lm_learns_shakespeare(trained_lm, shakespeare: str) -> None:
    import json

    metrics = json.loads((trained_lm / "metrics.json").read_text())
    valid = [h["loss"] for h in metrics["history"] if h["split"] == "valid"]
    assert valid[-1] < math.log(65) - 0.8  # well below a uniform guess over the ~65 characters
    assert metrics["valid_nats_per_char"] == pytest.approx(min(valid))
    again = evaluate_lm(trained_lm, shakespeare[-8_000:], device="cpu")
    assert again["loss"] == pytest.approx(min(valid), rel=0.05)


def test_word_lm_on_ptb_reports_perplexity(ptb_lines, tmp_path) -> None:
    train, valid = "\n".join(ptb_lines["train"][:3000]), "\n".join(ptb_lines["valid"][:300])
    res = train_lm(train, valid, out=tmp_path / "ptb", level="word", hidden_size=48, num_layers=1, seq_len=20,
                   max_vocab=2000, opts=TrainOptions(epochs=2, batch_size=16, lr=5e-3, warmup_steps=10, threads=1))
    ppl = res.metrics["valid_perplexity"]
    assert math.isfinite(ppl) and ppl < 2000 * 0.5  # beats a uniform guess over the 2,000-word vocabulary
    hist = [h for h in res.metrics["history"] if h["split"] == "valid"]
    assert hist[-1]["perplexity"] == pytest.approx(math.exp(hist[-1]["loss"]), rel=1e-6)


def test_temperature_limits() -> None:
    logits = torch.tensor([[2.0, 1.0, 0.5, -1.0]])
    p = torch.softmax(logits, -1)
    assert torch.allclose(torch.softmax(apply_temperature(logits, 1.0), -1), p, atol=1e-6)
    cold = torch.softmax(apply_temperature(logits, 1e-3), -1)
    assert cold[0, 0] > 0.999
    assert all(int(sample_next(logits, temperature=1e-3)) == 0 for _ in range(50))
    ents = [entropy(torch.softmax(apply_temperature(logits, t), -1)[0]) for t in (0.2, 0.5, 1.0, 2.0)]
    assert ents == sorted(ents) and ents[-1] < math.log(4)


def test_top_k_is_respected() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(1, 50, generator=gen)
    allowed = set(torch.topk(logits, 5).indices[0].tolist())
    draws = {int(sample_next(logits, temperature=5.0, top_k=5, generator=gen)) for _ in range(400)}
    assert draws <= allowed and len(draws) == 5
    assert torch.isinf(top_k_filter(logits, 1)).sum() == 49
    assert int(sample_next(logits, top_k=1)) == int(logits.argmax())


def _nucleus(probs: list[float], p: float) -> set[int]:
    """The top-p set written out plainly: take tokens from the most likely down until their mass reaches p
    (ties at the last probability taken are all in)."""
    order = sorted(range(len(probs)), key=lambda i: -probs[i])
    mass, last = 0.0, None
    for i in order:
        if mass >= p:
            break
        mass, last = mass + probs[i], probs[i]
    return {i for i, q in enumerate(probs) if q >= last}


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(-6, 6), min_size=2, max_size=30), st.floats(0.05, 1.0), st.integers(1, 30),
       st.floats(0.3, 3.0), st.integers(0, 2**31 - 1))
def test_top_k_and_top_p_never_sample_outside_the_allowed_set(logits: list[float], p: float, k: int, temperature: float,
                                                              seed: int) -> None:
    x = torch.tensor([logits])
    tempered = torch.softmax(torch.tensor([logits], dtype=torch.float64) / temperature, -1)[0].tolist()
    top = set(sorted(range(len(logits)), key=lambda i: -tempered[i])[:k]) if k < len(logits) else set(range(len(logits)))
    inside_k = [q if i in top else 0.0 for i, q in enumerate(tempered)]
    renorm = [q / sum(inside_k) for q in inside_k]
    allowed = _nucleus(renorm, p) & top
    ties = {i for i in range(len(logits)) for j in range(len(logits)) if i != j and abs(tempered[i] - tempered[j]) < 1e-6}
    gen = torch.Generator().manual_seed(seed)
    draws = {int(sample_next(x, temperature=temperature, top_k=k, top_p=p, generator=gen)) for _ in range(30)}
    assert draws - ties <= allowed, (draws, allowed)
    if int(x.argmax()) not in ties:
        assert int(sample_next(x, top_p=1e-9)) == int(x.argmax())  # the smallest nucleus is the top token


def test_top_p_keeps_the_smallest_set_reaching_p() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = lambda p: (~torch.isinf(top_p_filter(logits, p))).sum().item()  # noqa: E731
    assert [kept(p) for p in (0.4, 0.5, 0.51, 0.8, 0.81, 0.96, 1.0)] == [1, 1, 2, 2, 3, 4, 4]


@pytest.fixture(scope="module")
def biased_lm() -> tuple[RNNLanguageModel, Vocab]:
    """A random word LM whose decoder strongly prefers <unk>, <bos> and 'x': banned tokens must still never appear."""
    torch.manual_seed(0)
    vocab = Vocab.build([["a", "b", "c", "x", "."]], level="word")
    model = RNNLanguageModel(LMConfig(vocab_size=len(vocab), level="word", embed_dim=8, hidden_size=8, num_layers=1))
    with torch.no_grad():
        for tok in ("<unk>", "<bos>", "x"):
            model.decoder.bias[vocab.id(tok)] = 8.0
    return model.eval(), vocab


@pytest.mark.parametrize("opts", [{}, {"top_k": 2}, {"top_p": 0.5}, {"top_k": 1}, {"greedy": True},
                                  {"temperature": 3.0, "top_p": 0.99}])
def test_banned_tokens_are_never_emitted(biased_lm: tuple[RNNLanguageModel, Vocab], opts: dict) -> None:
    model, vocab = biased_lm
    out = sample_tokens(model, vocab, ["a"], length=300, seed=1, banned=[vocab.unk_id, vocab.id("x")], **opts)
    assert len(out) == 300 and not {"<unk>", "<bos>", "<pad>", "x"} & set(out)
    assert sample_tokens(model, vocab, ["a"], length=50, seed=1)[:50].count("x") > 25  # without the ban: mostly x


def test_seed_reproduces_and_stop_ends_early(biased_lm: tuple[RNNLanguageModel, Vocab]) -> None:
    model, vocab = biased_lm
    kw = {"length": 200, "temperature": 3.0, "banned": [vocab.id("x"), vocab.unk_id]}
    runs = [sample_tokens(model, vocab, ["a"], seed=s, **kw) for s in (5, 5, 6)]
    assert runs[0] == runs[1] and runs[0] != runs[2]
    stopped = sample_tokens(model, vocab, ["a"], seed=5, stop=sentence_stop(lambda t: t[-1] == ".", 2), **kw)
    assert stopped == runs[0][: len(stopped)] and stopped.count(".") == 2 and stopped[-1] == "."
    assert [char_sentence_end(list(t)) for t in ("했다.", "3.", "왜?", "a\n", "다")] == [True, False, True, True, False]
    with pytest.raises(ModelError, match="sentences must be"):
        sentence_stop(char_sentence_end, 0)


@pytest.mark.parametrize(("kw", "match"), [
    ({"top_p": 0.0}, "top_p must be a number in"),
    ({"top_p": 1.5}, "top_p"),
    ({"top_p": float("nan")}, "top_p"),
    ({"temperature": 0}, "temperature must be a finite number > 0"),
    ({"temperature": -1.0}, "temperature"),
    ({"temperature": float("nan")}, "temperature"),
    ({"top_k": 0}, "top_k must be an integer >= 1"),
    ({"top_k": 2.5}, "top_k"),
])
def test_bad_sampling_arguments(kw: dict, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        sample_next(torch.zeros(1, 5), **kw)


def test_generate_prompt_seed_and_errors(trained_lm) -> None:
    model, _, vocab = load_lm(trained_lm)
    a = generate(model, vocab, "First Citizen:\n", length=40, temperature=0.8, top_k=10, seed=3)
    assert len(a) == 40 and a == generate(model, vocab, "First Citizen:\n", length=40, temperature=0.8, top_k=10, seed=3)
    assert generate(model, vocab, "First Citizen:\n", length=20, greedy=True) == generate(
        model, vocab, "First Citizen:\n", length=20, temperature=1e-4, seed=9)
    with pytest.raises(ModelError, match="never saw"):
        generate(model, vocab, "ROMEO \U0001F600", length=5)
    with pytest.raises(ModelError, match="length"):
        generate(model, vocab, "A", length=0)


def test_temperature_plot(trained_lm, tmp_path) -> None:
    model, _, vocab = load_lm(trained_lm)
    path, rows = plot_temperature(model, vocab, "KING ", tmp_path / "t.png", samples=2, length=60)
    assert path.stat().st_size > 10_000
    assert [r["temperature"] for r in rows] == [0.01, 0.2, 0.4, 0.6, 0.8, 1.0]
    ents = [r["next_token_entropy"] for r in rows]
    assert ents == sorted(ents) and ents[0] < 0.05
    assert rows[0]["distinct_2"] <= rows[-1]["distinct_2"]
