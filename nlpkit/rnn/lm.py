"""Character-, word- and morpheme-level RNN language models (Zaremba et al. 2014; Press & Wolf 2016 tying).

Embedding -> dropout -> multi-layer LSTM/GRU (dropout between layers) -> [LayerNorm] -> dropout ->
[projection to the embedding size when tying and sizes differ] -> linear decoder whose
weight is optionally the embedding matrix.

>>> model = RNNLanguageModel(LMConfig(vocab_size=65, hidden_size=256))   # doctest: +SKIP
>>> logits, state = model(ids, state)                                    # ids [batch, time]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from nlpkit.errors import ModelError
from nlpkit.rnn._torch import nn, torch

__all__ = ["LEVELS", "LMConfig", "RNNLanguageModel", "detach_state"]

#: What one LM token is: a character, a whitespace word, or a morpheme (``form/tag``) of stored tokens.
LEVELS = ("char", "word", "morph")

State = Any  # (h, c) for LSTM, h for GRU, or None


@dataclass(frozen=True)
class LMConfig:
    """Architecture of :class:`RNNLanguageModel`."""

    vocab_size: int
    level: Literal["char", "word", "morph"] = "char"  # morph: form/tag tokens of a stored tokens dataset
    arch: Literal["lstm", "gru"] = "lstm"
    embed_dim: int = 256
    hidden_size: int = 512
    num_layers: int = 2
    dropout: float = 0.2  # on embeddings, between layers and on the RNN output
    tie_weights: bool = True  # decoder weight = embedding matrix (through a projection if sizes differ)
    layer_norm: bool = False  # LayerNorm on the top RNN layer's output (steadier with large LRs)

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ModelError(f"level must be one of {', '.join(LEVELS)}, got {self.level!r}")
        if self.arch not in ("lstm", "gru"):
            raise ModelError(f"arch must be 'lstm' or 'gru', got {self.arch!r}")
        for name in ("vocab_size", "embed_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ModelError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.dropout < 1:
            raise ModelError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RNNLanguageModel(nn.Module):
    """Next-token model over a token stream; carries its recurrent state between calls."""

    def __init__(self, config: LMConfig) -> None:
        super().__init__()
        self.config = c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim)
        self.drop = nn.Dropout(c.dropout)
        rnn_cls = nn.LSTM if c.arch == "lstm" else nn.GRU
        self.rnn = rnn_cls(c.embed_dim, c.hidden_size, num_layers=c.num_layers, batch_first=True,
                           dropout=c.dropout if c.num_layers > 1 else 0.0)
        self.norm = nn.LayerNorm(c.hidden_size) if c.layer_norm else None
        out_dim = c.hidden_size
        self.proj: nn.Module | None = None
        if c.tie_weights and c.hidden_size != c.embed_dim:
            self.proj = nn.Linear(c.hidden_size, c.embed_dim)
            out_dim = c.embed_dim
        self.decoder = nn.Linear(out_dim, c.vocab_size)
        if c.tie_weights:
            self.decoder.weight = self.embedding.weight
        self._init_weights()

    def _init_weights(self) -> None:
        # Tied: small uniform embeddings (Zaremba et al.; Press & Wolf) keep the initial logits small.
        # Untied: torch's N(0, 1) embeddings; measured on tiny-shakespeare they train ~2x faster
        # early on than the small uniform init.
        if self.config.tie_weights:
            nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)

    def init_state(self, batch_size: int, device: torch.device | None = None) -> State:
        c = self.config
        h = torch.zeros(c.num_layers, batch_size, c.hidden_size, device=device)
        return (h, torch.zeros_like(h)) if c.arch == "lstm" else h

    def forward(self, ids: torch.Tensor, state: State = None) -> tuple[torch.Tensor, State]:
        """Logits ``[batch, time, vocab]`` and the state after the last step."""
        out, state = self.rnn(self.drop(self.embedding(ids)), state)
        if self.norm is not None:
            out = self.norm(out)
        out = self.drop(out)
        if self.proj is not None:
            out = self.proj(out)
        return self.decoder(out), state


def detach_state(state: State) -> State:
    """Cut the graph at a truncated-BPTT window boundary (keep values, drop history)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()
