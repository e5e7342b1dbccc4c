from __future__ import annotations

import numpy as np
import pytest

from nlpkit.errors import SourceError
from nlpkit.features.korsts import BEST, WEIGHTED, Pairs, evaluate, read_korsts, settings_for


@pytest.fixture(scope="module")
def pairs(shared_data) -> Pairs:
    return read_korsts(shared_data / "kornlu" / "KorSTS")


def test_reads_every_row_with_quoting_disabled(pairs):
    # 260/128/55 rows contain '"': default CSV quoting would merge rows and lose some
    assert {s: len(v) for s, v in pairs.gold.items()} == {"train": 5749, "valid": 1500, "test": 1379}
    assert any('"' in s for s in pairs.left["train"])
    assert pairs.gold["test"].min() >= 0 and pairs.gold["test"].max() <= 5


def test_tokenizer_free_baselines(pairs):
    rows = {r["setting"]: r for r in evaluate(pairs, settings_for([]), splits=("valid",))}
    ws, ch = rows["whitespace"]["valid"], rows["char 2-3-grams"]["valid"]
    assert 0.5 < ws < ch < 0.9  # character n-grams match across Korean inflection


def test_best_setting_beats_plain_morphemes_on_dev(pairs):
    dev = Pairs({"valid": pairs.left["valid"]}, {"valid": pairs.right["valid"]}, {"valid": pairs.gold["valid"]})
    settings = [s for s in settings_for(["kiwi"], baselines=False) if s.view != WEIGHTED]  # needs train
    rows = {r["view"]: r["valid"] for r in evaluate(dev, settings, splits=("valid",))}
    assert rows[BEST] > rows["morphs"]
    assert all(np.isfinite(v) for v in rows.values())


def test_missing_folder(tmp_path):
    with pytest.raises(SourceError, match="sts-train.tsv not found"):
        read_korsts(tmp_path)


def test_ensemble_row_is_the_mean_of_its_members_cosines(pairs):
    dev = Pairs({"valid": pairs.left["valid"][:400]}, {"valid": pairs.right["valid"][:400]},
                {"valid": pairs.gold["valid"][:400]})
    settings = [s for s in settings_for(["kiwi", "mecab"], baselines=False) if s.view != WEIGHTED]
    assert settings[-1].view == "ensemble" and settings[-1].members == (f"kiwi {BEST}", f"mecab {BEST}")
    rows = {r["setting"]: r["valid"] for r in evaluate(dev, settings, splits=("valid",))}
    ens = rows[settings[-1].name]
    assert np.isfinite(ens) and 0.5 < ens < 0.95
    # averaging two noisy views should not fall below the weaker member
    assert ens >= min(rows[f"kiwi {BEST}"], rows[f"mecab {BEST}"]) - 0.01


def test_group_weights_tuned_on_train_carry_over_to_dev(pairs):
    """The weighted view learns its weights from train gold scores only; dev must improve too."""
    sub = Pairs({sp: pairs.left[sp] for sp in ("train", "valid")}, {sp: pairs.right[sp] for sp in ("train", "valid")},
                {sp: pairs.gold[sp] for sp in ("train", "valid")})
    settings = [s for s in settings_for(["kiwi"], baselines=False) if s.view in (BEST, WEIGHTED)]
    rows = {r["view"]: r for r in evaluate(sub, settings, splits=("valid",))}
    weights = rows[WEIGHTED]["weights"]
    assert set(weights) == {"chars", "name", "noun", "number", "other", "predicate"}
    assert all(w > 0 for w in weights.values()) and len(set(weights.values())) > 1
    assert rows[WEIGHTED]["valid"] > rows[BEST]["valid"] + 0.005
