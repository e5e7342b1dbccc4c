"""Language models (shapes, tying, TBPTT learning on real text) and sampling (temperature, top-k)."""

from __future__ import annotations

import math

import pytest
import torch

from nlpkit.errors import ModelError
from nlpkit.rnn.lm import LMConfig, RNNLanguageModel, detach_state
from nlpkit.rnn.lm_train import evaluate_lm, load_lm, train_lm
from nlpkit.rnn.sampling import apply_temperature, generate, sample_next, top_k_filter
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


@pytest.mark.parametrize(("kw", "match"), [
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
