"""Length-bucketed batches (little padding) in a seeded, reproducible order.

Sequences of similar length share a batch, so a padded batch holds little padding; the
classifier then keeps the padding out of its RNN (packed on CUDA, reversed-within-length
masking on CPU, see ``nlpkit.rnn.classifier``).

>>> bucket_batches([5, 1, 4, 2, 3, 6], batch_size=2, seed=0, shuffle=False)
[[1, 3], [4, 2], [0, 5]]
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nlpkit.errors import ModelError

if TYPE_CHECKING:
    import torch

__all__ = ["bucket_batches", "pad_batch", "to_device"]


def bucket_batches(
    lengths: Sequence[int],
    batch_size: int,
    *,
    seed: int = 0,
    shuffle: bool = True,
    pool_batches: int = 50,
) -> list[list[int]]:
    """Split example indices into batches of similar length.

    With ``shuffle``, indices are shuffled (seeded), cut into pools of ``pool_batches`` batches,
    each pool sorted by length and cut into batches, and the batch order shuffled again: every
    epoch sees a different order, every run with the same seed the same one. Without
    ``shuffle`` (evaluation) all examples are sorted by length.
    """
    if batch_size < 1:
        raise ModelError(f"batch_size must be >= 1, got {batch_size}")
    order = list(range(len(lengths)))
    if not shuffle:
        order.sort(key=lambda i: lengths[i])
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng = random.Random(seed)
    rng.shuffle(order)
    pool = batch_size * max(1, pool_batches)
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad id sequences into a ``[batch, max_len]`` long tensor plus a lengths tensor (on CPU)."""
    from nlpkit.rnn._torch import torch

    if not seqs:
        raise ModelError("cannot pad an empty batch")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    if int(lengths.min()) < 1:
        raise ModelError("every sequence in a batch needs at least one token (got an empty one)")
    out = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.long)
    for row, s in enumerate(seqs):
        out[row, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out, lengths


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Move a CPU batch to ``device``; on CUDA through pinned memory, asynchronously."""
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t
