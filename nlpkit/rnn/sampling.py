"""Turning next-token logits into tokens: temperature, top-k, top-p (nucleus), greedy, and generation.

Temperature rescales log-probabilities: ``p_i ∝ exp(log p_i / T)``. ``T = 1`` leaves the
distribution unchanged, ``T -> 0`` puts all mass on the most likely token (greedy),
``T > 1`` flattens it. Top-k then keeps the ``k`` most likely tokens, top-p the smallest set
whose tempered probability reaches ``p`` (Holtzman et al. 2020): both cut the unreliable tail
that makes samples of a small model drift into nonsense. Every language model samples through
:func:`sample_tokens` (``nlpkit.rnn.news_lm`` included), which can stop at a sentence end.

>>> apply_temperature(torch.log(torch.tensor([0.5, 0.3, 0.2])), 1.0).softmax(-1)  # doctest: +SKIP
tensor([0.5000, 0.3000, 0.2000])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from nlpkit.errors import ModelError
from nlpkit.rnn._torch import torch

if TYPE_CHECKING:
    from nlpkit.rnn.lm import RNNLanguageModel
    from nlpkit.rnn.vocab import Vocab

__all__ = ["apply_temperature", "top_k_filter", "top_p_filter", "sample_next", "generate", "check_sampling_args",
           "prompt_tokens", "sample_tokens", "char_sentence_end", "sentence_stop"]

#: ``stop(new_tokens) -> bool``: True once the tokens generated so far end what should be generated.
StopFn = Callable[[list[str]], bool]


def check_sampling_args(temperature: float, top_k: int | None, length: int | None = None,
                        top_p: float | None = None) -> None:
    """Raise ModelError naming the bad value unless ``temperature > 0``, ``top_k >= 1``, ``length >= 1``,
    ``0 < top_p <= 1``."""
    if not isinstance(temperature, int | float) or not math.isfinite(temperature) or temperature <= 0:
        raise ModelError(f"temperature must be a finite number > 0 (use greedy=True for T -> 0), got {temperature!r}")
    if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
        raise ModelError(f"top_k must be an integer >= 1 (or None for no limit), got {top_k!r}")
    if length is not None and (not isinstance(length, int) or length < 1):
        raise ModelError(f"length must be an integer >= 1, got {length!r}")
    if top_p is not None and (not isinstance(top_p, int | float) or isinstance(top_p, bool)
                              or not 0 < top_p <= 1):
        raise ModelError(f"top_p must be a number in (0, 1] (or None for no nucleus cut), got {top_p!r}")


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


def top_p_filter(logits: torch.Tensor, p: float | None) -> torch.Tensor:
    """Keep per row the most likely logits whose probabilities first sum to ``p`` (at least one); -inf the rest.

    ``None`` or ``p = 1`` keeps all. Ties at the cut are kept or dropped together.
    """
    check_sampling_args(1.0, None, top_p=p)
    if p is None or p >= 1:
        return logits
    probs = torch.softmax(logits, dim=-1)
    sorted_probs, _ = torch.sort(probs, dim=-1, descending=True)
    before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs  # mass of the strictly more likely tokens
    kept = torch.where(before < p, sorted_probs, torch.ones_like(sorted_probs))
    cut = kept.min(dim=-1, keepdim=True).values  # probability of the least likely token kept
    return logits.masked_fill(probs < cut, float("-inf"))


def sample_next(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Token ids ``[batch]`` drawn from ``logits [batch, vocab]``: tempered, then top-k, then top-p."""
    check_sampling_args(temperature, top_k, top_p=top_p)
    if greedy:
        return logits.argmax(dim=-1)
    filtered = top_p_filter(top_k_filter(apply_temperature(logits, temperature), top_k), top_p)
    return torch.multinomial(torch.softmax(filtered, dim=-1), 1, generator=generator).squeeze(-1)


def char_sentence_end(tokens: list[str]) -> bool:
    """Stop rule of a character model: a line break, or ``.``/``?``/``!`` after a letter (``했다.``, not ``3.5``)."""
    if tokens and tokens[-1] == "\n":
        return True
    return len(tokens) >= 2 and tokens[-1] in ".?!" and tokens[-2].isalpha()


def sentence_stop(ends_sentence: StopFn, sentences: int) -> StopFn:
    """A stop rule that is True at the ``sentences``-th token for which ``ends_sentence`` holds."""
    if not isinstance(sentences, int) or sentences < 1:
        raise ModelError(f"sentences must be an integer >= 1 (or None to stop only at the length), got {sentences!r}")
    seen = [0]

    def stop(tokens: list[str]) -> bool:
        seen[0] += ends_sentence(tokens)
        return seen[0] >= sentences

    return stop


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
    top_p: float | None = None,
    greedy: bool = False,
    seed: int | None = None,
    banned: Sequence[int] = (),
    stop: StopFn | None = None,
) -> list[str]:
    """Continue the token sequence ``tokens`` (non-empty) by at most ``length`` tokens; the new tokens.

    ``<pad>``, ``<bos>`` and the ids in ``banned`` are never emitted (masked before top-k/top-p,
    so the allowed set is always among the permitted tokens). ``stop`` ends generation early
    once it returns True for the tokens generated so far. Unknown tokens in the context count
    as ``<unk>``. The same ``seed`` gives the same tokens.
    """
    check_sampling_args(temperature, top_k, length, top_p)
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
    out: list[str] = []
    for _ in range(length):
        last = logits[:, -1].float()
        last[:, never] = float("-inf")
        nxt = sample_next(last, temperature=temperature, top_k=top_k, top_p=top_p, greedy=greedy, generator=gen)
        out.extend(vocab.decode([int(nxt)], skip_specials=False))
        if stop is not None and stop(out):
            break
        logits, state = model(nxt[:, None], state)
    return out


def generate(
    model: RNNLanguageModel,
    vocab: Vocab,
    prompt: str = "",
    *,
    length: int = 200,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    seed: int | None = None,
    strict_prompt: bool = True,
    sentences: int | None = None,
) -> str:
    """Continue ``prompt`` by at most ``length`` tokens and return the continuation only.

    An empty prompt starts from a line break (char level) or ``<eos>`` (word level). Prompt
    tokens the vocabulary lacks raise ModelError listing them (``strict_prompt=False`` maps
    them to ``<unk>`` instead). ``sentences`` (char level) stops after that many sentence ends
    (:func:`char_sentence_end`). Morpheme-level models analyse the prompt with their tokenizer
    first: :func:`nlpkit.rnn.news_lm.generate_news`.
    """
    check_sampling_args(temperature, top_k, length, top_p)
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
    stop = sentence_stop(char_sentence_end, sentences) if level == "char" and sentences else None
    words = [w for w in sample_tokens(model, vocab, toks, length=length, temperature=temperature, top_k=top_k,
                                      top_p=top_p, greedy=greedy, seed=seed, banned=banned, stop=stop)
             if level != "char" or w not in vocab.itos[:4]]
    if level == "char":
        return "".join(words)
    return " ".join("\n" if w == "<eos>" else w for w in words).replace(" \n ", "\n")
