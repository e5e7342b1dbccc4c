"""Turning next-token logits into tokens: temperature, top-k, greedy, and generation with a prompt.

Temperature rescales log-probabilities: ``p_i ∝ exp(log p_i / T)``. ``T = 1`` leaves the
distribution unchanged, ``T -> 0`` puts all mass on the most likely token (greedy),
``T > 1`` flattens it.

>>> apply_temperature(torch.log(torch.tensor([0.5, 0.3, 0.2])), 1.0).softmax(-1)  # doctest: +SKIP
tensor([0.5000, 0.3000, 0.2000])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nlpkit.errors import ModelError
from nlpkit.rnn._torch import torch

if TYPE_CHECKING:
    from nlpkit.rnn.lm import RNNLanguageModel
    from nlpkit.rnn.vocab import Vocab

__all__ = ["apply_temperature", "top_k_filter", "sample_next", "generate", "check_sampling_args", "prompt_tokens",
           "sample_tokens"]


def check_sampling_args(temperature: float, top_k: int | None, length: int | None = None) -> None:
    """Raise ModelError naming the bad value unless ``temperature > 0``, ``top_k >= 1``, ``length >= 1``."""
    if not isinstance(temperature, int | float) or not math.isfinite(temperature) or temperature <= 0:
        raise ModelError(f"temperature must be a finite number > 0 (use greedy=True for T -> 0), got {temperature!r}")
    if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
        raise ModelError(f"top_k must be an integer >= 1 (or None for no limit), got {top_k!r}")
    if length is not None and (not isinstance(length, int) or length < 1):
        raise ModelError(f"length must be an integer >= 1, got {length!r}")


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Log-probabilities divided by ``temperature`` (unnormalised logits of the tempered distribution)."""
    check_sampling_args(temperature, None)
    return torch.log_softmax(logits.float(), dim=-1) / temperature


def top_k_filter(logits: torch.Tensor, k: int | None) -> torch.Tensor:
    """Keep the ``k`` largest logits per row, set the rest to -inf (``None`` keeps all)."""
    check_sampling_args(1.0, k)
    if k is None or k >= logits.shape[-1]:
        return logits
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def sample_next(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    greedy: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Token ids ``[batch]`` drawn from ``logits [batch, vocab]``."""
    check_sampling_args(temperature, top_k)
    if greedy:
        return logits.argmax(dim=-1)
    probs = torch.softmax(top_k_filter(apply_temperature(logits, temperature), top_k), dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def prompt_tokens(prompt: str, level: str) -> list[str]:
    """Tokens of a prompt as the model sees them (characters, or whitespace-separated words)."""
    return list(prompt) if level == "char" else prompt.split()


@torch.no_grad()
def sample_tokens(
    model: RNNLanguageModel,
    vocab: Vocab,
    tokens: Sequence[str],
    *,
    length: int = 200,
    temperature: float = 1.0,
    top_k: int | None = None,
    greedy: bool = False,
    seed: int | None = None,
    banned: Sequence[int] = (),
) -> list[str]:
    """Continue the token sequence ``tokens`` (non-empty) by ``length`` tokens; the new tokens.

    ``<pad>``, ``<bos>`` and the ids in ``banned`` are never emitted. Unknown tokens in the
    context count as ``<unk>``.
    """
    check_sampling_args(temperature, top_k, length)
    if not tokens:
        raise ModelError("sampling needs at least one context token")
    device = next(model.parameters()).device
    gen = torch.Generator(device=device)
    if seed is not None:
        gen.manual_seed(seed)
    model.eval()
    ids = torch.tensor([vocab.encode(tokens)], device=device)
    never = [vocab.pad_id, vocab.bos_id, *banned]
    logits, state = model(ids)
    out: list[int] = []
    for _ in range(length):
        last = logits[:, -1].float()
        last[:, never] = float("-inf")
        nxt = sample_next(last, temperature=temperature, top_k=top_k, greedy=greedy, generator=gen)
        out.append(int(nxt))
        logits, state = model(nxt[:, None], state)
    return vocab.decode(out, skip_specials=False)


def generate(
    model: RNNLanguageModel,
    vocab: Vocab,
    prompt: str = "",
    *,
    length: int = 200,
    temperature: float = 1.0,
    top_k: int | None = None,
    greedy: bool = False,
    seed: int | None = None,
    strict_prompt: bool = True,
) -> str:
    """Continue ``prompt`` by ``length`` tokens and return the continuation only.

    An empty prompt starts from a line break (char level) or ``<eos>`` (word level). Prompt
    tokens the vocabulary lacks raise ModelError listing them (``strict_prompt=False`` maps
    them to ``<unk>`` instead). Morpheme-level models analyse the prompt with their tokenizer
    first: :func:`nlpkit.rnn.news_lm.generate_news`.
    """
    check_sampling_args(temperature, top_k, length)
    level = model.config.level
    if level == "morph":
        raise ModelError("a morpheme-level model needs its tokenizer for the prompt: use nlpkit.rnn.news_lm.generate_news")
    toks = prompt_tokens(prompt, level)
    unknown = vocab.unknown(toks)
    if unknown and strict_prompt:
        raise ModelError(f"the prompt has {len(unknown)} token(s) the model never saw: {unknown[:10]}; "
                         "remove them or pass strict_prompt=False to map them to <unk>")
    if not toks:
        toks = ["\n"] if level == "char" and "\n" in vocab else ["<eos>"]
    # at char level also <unk>/<eos> are never emitted (a char stream has neither)
    banned = [vocab.unk_id, vocab.eos_id] if level == "char" else []
    words = [w for w in sample_tokens(model, vocab, toks, length=length, temperature=temperature, top_k=top_k,
                                      greedy=greedy, seed=seed, banned=banned)
             if level != "char" or w not in vocab.itos[:4]]
    if level == "char":
        return "".join(words)
    return " ".join("\n" if w == "<eos>" else w for w in words).replace(" \n ", "\n")
