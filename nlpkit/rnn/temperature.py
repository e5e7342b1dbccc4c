"""How temperature reshapes a language model's next-token distribution, as numbers and a PNG.

For each temperature T the report gives the entropy of the next-token distribution after a
prompt and, over sampled continuations, the mean per-step entropy and the diversity
(distinct tokens and distinct bigrams per generated token). Low T concentrates mass on the
top token (entropy -> 0, repetitive text); T = 1 is the model's own distribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nlpkit.errors import ModelError
from nlpkit.rnn._torch import torch
from nlpkit.rnn.lm import RNNLanguageModel
from nlpkit.rnn.sampling import apply_temperature, check_sampling_args, generate, prompt_tokens
from nlpkit.rnn.vocab import Vocab

__all__ = ["DEFAULT_TEMPERATURES", "entropy", "next_token_distribution", "temperature_report", "plot_temperature"]

DEFAULT_TEMPERATURES: tuple[float, ...] = (0.01, 0.2, 0.4, 0.6, 0.8, 1.0)


def entropy(probs: torch.Tensor) -> float:
    """Shannon entropy in nats of a probability vector."""
    p = probs[probs > 0]
    return float(-(p * p.log()).sum())


@torch.no_grad()
def next_token_distribution(model: RNNLanguageModel, vocab: Vocab, prompt: str) -> torch.Tensor:
    """The model's log-probabilities of the token after ``prompt`` (prompt tokens must be known)."""
    toks = prompt_tokens(prompt, model.config.level)
    if not toks:
        raise ModelError("the temperature report needs a non-empty prompt")
    unknown = vocab.unknown(toks)
    if unknown:
        raise ModelError(f"the prompt has token(s) the model never saw: {unknown[:10]}")
    model.eval()
    logits, _ = model(torch.tensor([vocab.encode(toks)], device=next(model.parameters()).device))
    return torch.log_softmax(logits[0, -1].float(), -1).cpu()


def _distinct(tokens: list[str], n: int) -> float:
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return len(set(grams)) / max(1, len(grams))


def temperature_report(
    model: RNNLanguageModel, vocab: Vocab, prompt: str, *, temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    samples: int = 3, length: int = 200, seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per temperature: next-token entropy, sample entropy, distinct-1/2 and one sample."""
    for t in temperatures:
        check_sampling_args(t, None)
    logp = next_token_distribution(model, vocab, prompt)
    rows = []
    for t in temperatures:
        probs = torch.softmax(apply_temperature(logp, t), -1)
        texts = [generate(model, vocab, prompt, length=length, temperature=t, seed=seed + i) for i in range(samples)]
        toks = [tok for text in texts for tok in prompt_tokens(text, model.config.level)]
        rows.append({"temperature": t, "next_token_entropy": entropy(probs),
                     "top_token_probability": float(probs.max()),
                     "distinct_1": _distinct(toks, 1), "distinct_2": _distinct(toks, 2), "sample": texts[0]})
    return rows


def plot_temperature(
    model: RNNLanguageModel, vocab: Vocab, prompt: str, out: str | Path, *,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES, top: int = 15, samples: int = 3, length: int = 200,
    seed: int = 0,
) -> tuple[Path, list[dict[str, Any]]]:
    """Histograms of the next-token distribution per T, plus entropy and diversity against T."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = temperature_report(model, vocab, prompt, temperatures=temperatures, samples=samples, length=length,
                              seed=seed)
    logp = next_token_distribution(model, vocab, prompt)
    order = torch.argsort(logp, descending=True)[:top]
    labels = [repr(vocab.itos[i])[1:-1] or "␣" for i in order.tolist()]
    n = len(temperatures)
    fig = plt.figure(figsize=(3.2 * n, 7))
    grid = fig.add_gridspec(2, n)
    for col, t in enumerate(temperatures):
        ax = fig.add_subplot(grid[0, col])
        probs = torch.softmax(apply_temperature(logp, t), -1)[order]
        ax.bar(range(len(labels)), probs.numpy(), color="tab:blue")
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_title(f"T = {t}")
        if col == 0:
            ax.set_ylabel(f"P(next | {prompt[-20:]!r})")
    ts = [r["temperature"] for r in rows]
    ax = fig.add_subplot(grid[1, : n // 2])
    ax.plot(ts, [r["next_token_entropy"] for r in rows], marker="o")
    ax.set_xlabel("temperature")
    ax.set_ylabel("next-token entropy (nats)")
    ax.grid(alpha=0.3)
    ax = fig.add_subplot(grid[1, n // 2 :])
    ax.plot(ts, [r["distinct_1"] for r in rows], marker="o", label="distinct-1")
    ax.plot(ts, [r["distinct_2"] for r in rows], marker="o", label="distinct-2")
    ax.set_xlabel("temperature")
    ax.set_ylabel(f"diversity of {samples}x{length}-token samples")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out, rows
