"""LSTM encoder-decoder on a synthetic addition task, with the two improvements of
"Deep Learning from Scratch 2" (ch. 7): reversed input and a peeky decoder.

Questions are ``"57+8"`` padded to a fixed width, answers ``"65"`` padded likewise; the
decoder starts from ``<bos>`` and is trained with teacher forcing, evaluated with greedy
decoding and exact match over the whole answer.

- ``reverse``: the question is fed right to left, so the digits that decide the first
  answer digits sit close to the decoder (shorter gradient paths).
- ``peeky``: the encoder's final hidden state is concatenated to the decoder's input at
  every step and to the output layer's input, not only used as the initial state.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from nlpkit.errors import ModelError
from nlpkit.rnn._torch import nn, torch
from nlpkit.rnn.vocab import Vocab

__all__ = ["AdditionTask", "Seq2SeqConfig", "Seq2Seq", "addition_vocab", "make_addition_data"]

TASKS = ("addition",)


@dataclass(frozen=True)
class AdditionTask:
    """Synthetic ``a+b`` problems with operands of up to ``max_digits`` digits."""

    max_digits: int = 3

    @property
    def question_len(self) -> int:
        return 2 * self.max_digits + 1

    @property
    def answer_len(self) -> int:
        return self.max_digits + 1


def addition_vocab() -> Vocab:
    return Vocab(itos=("<pad>", "<unk>", "<bos>", "<eos>", *"0123456789+ "), level="char")


def make_addition_data(n: int, task: AdditionTask, seed: int, exclude: set[str] | None = None) -> list[tuple[str, str]]:
    """``n`` distinct (question, answer) pairs, both padded with spaces to fixed width.

    Pairs whose question is in ``exclude`` are skipped, so train and test never overlap.
    """
    if n < 1:
        raise ModelError(f"number of examples must be >= 1, got {n}")
    if not 1 <= task.max_digits <= 9:
        raise ModelError(f"max_digits must be in 1..9, got {task.max_digits}")
    space = (10 ** task.max_digits) ** 2 - len(exclude or ())
    if n > space:
        raise ModelError(f"only {space} distinct problems exist with max_digits={task.max_digits}; asked for {n}")
    rng = random.Random(seed)
    top = 10 ** task.max_digits - 1
    seen = set(exclude or ())
    out = []
    while len(out) < n:
        a, b = rng.randint(0, top), rng.randint(0, top)
        q = f"{a}+{b}"
        if q in seen:
            continue
        seen.add(q)
        out.append((q.ljust(task.question_len), str(a + b).ljust(task.answer_len)))
    return out


@dataclass(frozen=True)
class Seq2SeqConfig:
    vocab_size: int
    embed_dim: int = 16
    hidden_size: int = 128
    reverse: bool = False
    peeky: bool = False

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embed_dim", "hidden_size"):
            if getattr(self, name) < 1:
                raise ModelError(f"{name} must be >= 1, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class Seq2Seq(nn.Module):
    """Encoder LSTM -> (peeky) decoder LSTM -> linear over the answer vocabulary."""

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = c = config
        self.src_embed = nn.Embedding(c.vocab_size, c.embed_dim)
        self.tgt_embed = nn.Embedding(c.vocab_size, c.embed_dim)
        self.encoder = nn.LSTM(c.embed_dim, c.hidden_size, batch_first=True)
        peek = c.hidden_size if c.peeky else 0
        self.decoder = nn.LSTM(c.embed_dim + peek, c.hidden_size, batch_first=True)
        self.out = nn.Linear(c.hidden_size + peek, c.vocab_size)

    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.config.reverse:
            src = src.flip(1)
        _, (h, c) = self.encoder(self.src_embed(src))
        return h, c

    def decode_step(self, tgt: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor],
                    enc_h: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        x = self.tgt_embed(tgt)  # [batch, time, embed]
        peek = enc_h[-1][:, None, :].expand(-1, tgt.shape[1], -1)
        if self.config.peeky:
            x = torch.cat([x, peek], dim=-1)
        out, state = self.decoder(x, state)
        if self.config.peeky:
            out = torch.cat([out, peek], dim=-1)
        return self.out(out), state

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits ``[batch, answer_len, vocab]``."""
        h, c = self.encode(src)
        logits, _ = self.decode_step(tgt_in, (h, c), h)
        return logits

    @torch.no_grad()
    def greedy(self, src: torch.Tensor, length: int, bos_id: int) -> torch.Tensor:
        """Greedy decoding: ``length`` ids per row, each step fed the previous prediction."""
        h, c = self.encode(src)
        state = (h, c)
        tok = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
        out = []
        for _ in range(length):
            logits, state = self.decode_step(tok, state, h)
            tok = logits.argmax(-1)
            out.append(tok)
        return torch.cat(out, dim=1)
