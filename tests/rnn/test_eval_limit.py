"""``eval_limit``: quick runs evaluate on a stratified sample of valid/test, never touching train."""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from nlpkit.errors import ModelError
from nlpkit.rnn.data import cap_eval_splits


def test_cap_keeps_label_shares_alignment_and_train(nsmc_splits) -> None:
    splits = copy.deepcopy(nsmc_splits)
    splits.ids = {sp: [f"{sp}-{i}" for i in range(len(t))] for sp, t in splits.texts.items()}
    before = copy.deepcopy(splits)
    n_test = len(before.labels["test"])
    limit = n_test // 3
    cap_eval_splits(splits, limit, seed=1)

    assert splits.texts["train"] == before.texts["train"] and splits.labels["train"] == before.labels["train"]
    for sp in ("valid", "test"):
        n_classes = len(set(before.labels[sp]))
        assert abs(len(splits.labels[sp]) - min(limit, len(before.labels[sp]))) <= n_classes  # per-label rounding
        # each kept row keeps its own text, label and id, in the original order
        pos = {i: k for k, i in enumerate(before.ids[sp])}
        kept = [pos[i] for i in splits.ids[sp]]
        assert kept == sorted(kept)
        assert [before.texts[sp][k] for k in kept] == splits.texts[sp]
        assert [before.labels[sp][k] for k in kept] == splits.labels[sp]
    # stratified: each class's share moves by at most one row's worth (plus rounding)
    full, part = Counter(before.labels["test"]), Counter(splits.labels["test"])
    kept = len(splits.labels["test"])
    for c in full:
        assert abs(part[c] / kept - full[c] / n_test) <= 2 / kept
    assert any("eval_limit" in n for n in splits.notes)
    # the metrics can say the figure is a sample's: the full size of each sampled split is kept
    assert splits.sampled_from == {sp: len(before.labels[sp]) for sp in ("valid", "test")
                                   if len(before.labels[sp]) > limit}


def test_cap_is_reproducible_and_larger_limit_is_a_no_op(nsmc_splits) -> None:
    a, b, c = (copy.deepcopy(nsmc_splits) for _ in range(3))
    cap_eval_splits(a, 100, seed=3)
    cap_eval_splits(b, 100, seed=3)
    assert a.texts["test"] == b.texts["test"]
    cap_eval_splits(c, 10**6)
    assert c.sampled_from == {}  # nothing was sampled
    assert c.texts == nsmc_splits.texts and c.notes == nsmc_splits.notes


def test_cap_rejects_nonsense() -> None:
    with pytest.raises(ModelError, match="eval_limit"):
        cap_eval_splits(None, 0)  # type: ignore[arg-type]
