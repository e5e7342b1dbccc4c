"""Many-to-one RNN text classifier: embedding -> (bi)LSTM/GRU over packed sequences -> pooling -> linear.

>>> model = RNNClassifier(vocab_size=100, num_classes=2, arch="gru")   # doctest: +SKIP
>>> logits = model(ids, lengths)                                      # [batch, 2]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from nlpkit.errors import ModelError
from nlpkit.rnn._torch import nn, torch

__all__ = ["ClassifierConfig", "RNNClassifier"]

Arch = Literal["lstm", "gru"]
Pooling = Literal["last", "max", "last_max"]


@dataclass(frozen=True)
class ClassifierConfig:
    """Architecture of :class:`RNNClassifier`."""

    vocab_size: int
    num_classes: int
    arch: Arch = "lstm"
    embed_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.3  # on embeddings, between layers and before the output layer
    pooling: Pooling = "last_max"  # final hidden state, max over time, or both concatenated
    packed: bool = True  # False runs the RNN over padding too (the naive baseline)

    def __post_init__(self) -> None:
        if self.arch not in ("lstm", "gru"):
            raise ModelError(f"arch must be 'lstm' or 'gru', got {self.arch!r}")
        if self.pooling not in ("last", "max", "last_max"):
            raise ModelError(f"pooling must be 'last', 'max' or 'last_max', got {self.pooling!r}")
        for name in ("vocab_size", "num_classes", "embed_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ModelError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.num_classes < 2:
            raise ModelError(f"num_classes must be >= 2, got {self.num_classes}")
        if not 0 <= self.dropout < 1:
            raise ModelError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class RNNClassifier(nn.Module):
    """Embedding -> LSTM/GRU -> pooled sequence summary -> linear logits."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=0)
        rnn_cls = nn.LSTM if c.arch == "lstm" else nn.GRU
        self.rnn = rnn_cls(
            c.embed_dim, c.hidden_size, num_layers=c.num_layers, batch_first=True,
            bidirectional=c.bidirectional, dropout=c.dropout if c.num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(c.dropout)
        directions = 2 if c.bidirectional else 1
        width = c.hidden_size * directions * (2 if c.pooling == "last_max" else 1)
        self.head = nn.Linear(width, c.num_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits ``[batch, num_classes]`` for padded ``ids [batch, time]`` with true ``lengths [batch]``."""
        c = self.config
        x = self.dropout(self.embedding(ids))
        if c.packed:
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out_packed, h = self.rnn(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out_packed, batch_first=True, total_length=ids.shape[1])
        else:
            out, h = self.rnn(x)
        if isinstance(h, tuple):  # LSTM: (h_n, c_n)
            h = h[0]
        parts = []
        if c.pooling in ("last", "last_max"):
            if c.packed:
                # h: [layers * directions, batch, hidden]; the last layer's states, all directions.
                d = 2 if c.bidirectional else 1
                last = h[-d:].transpose(0, 1).reshape(ids.shape[0], -1)
            else:  # without packing the "last" step is the padded end (the baseline's weakness)
                last = out[:, -1]
            parts.append(last)
        if c.pooling in ("max", "last_max"):
            mask = (torch.arange(ids.shape[1], device=ids.device)[None, :] < lengths.to(ids.device)[:, None])
            parts.append(out.masked_fill(~mask[:, :, None], float("-inf")).amax(dim=1))
        return self.head(self.dropout(torch.cat(parts, dim=-1)))
