"""The RNN classifier: shapes, gradient flow, packing, learning on real NSMC reviews, prediction errors."""

from __future__ import annotations

import pytest
import torch

from nlpkit.errors import ModelError
from nlpkit.rnn import predict, predict_text
from nlpkit.rnn.batching import pad_batch
from nlpkit.rnn.classifier import ClassifierConfig, RNNClassifier


@pytest.mark.parametrize("arch", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("pooling", ["last", "max", "last_max"])
def test_shapes_and_gradient_flow(arch: str, bidirectional: bool, pooling: str) -> None:
    torch.manual_seed(0)
    cfg = ClassifierConfig(vocab_size=50, num_classes=3, arch=arch, bidirectional=bidirectional, pooling=pooling,
                           embed_dim=8, hidden_size=6, num_layers=2)
    model = RNNClassifier(cfg)
    x, lengths = pad_batch([[5, 6, 7, 8], [9, 10], [11]])
    logits = model(x, lengths)
    assert logits.shape == (3, 3)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2])).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient reaches {name}"


@pytest.mark.parametrize("arch", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_padding_never_reaches_the_rnn(arch: str, layers: int) -> None:
    torch.manual_seed(0)
    outputs = {}
    x, lengths = pad_batch([[4, 5, 6], [7, 8, 9, 10, 11, 12, 13]])
    model = None
    for mode in ("masked", "packed", "naive"):
        cfg = ClassifierConfig(vocab_size=30, num_classes=2, embed_dim=8, hidden_size=8, arch=arch, num_layers=layers,
                               padding_mode=mode)  # type: ignore[arg-type]
        if model is None:
            model = RNNClassifier(cfg).eval()
        model.config = cfg
        outputs[mode] = model(x, lengths)
        if mode != "naive":
            alone = model(torch.tensor([[4, 5, 6]]), torch.tensor([3]))
            assert torch.allclose(outputs[mode][0], alone[0], atol=1e-6), mode
    assert torch.allclose(outputs["masked"], outputs["packed"], atol=1e-6)
    assert not torch.allclose(outputs["naive"][0], outputs["masked"][0], atol=1e-4)  # the baseline reads padding


def test_bad_config_names_the_value() -> None:
    with pytest.raises(ModelError, match="arch must be 'lstm' or 'gru', got 'rnn'"):
        ClassifierConfig(vocab_size=10, num_classes=2, arch="rnn")  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="dropout"):
        ClassifierConfig(vocab_size=10, num_classes=2, dropout=1.5)
    with pytest.raises(ModelError, match="padding_mode must be one of auto, packed, masked, naive"):
        ClassifierConfig(vocab_size=10, num_classes=2, padding_mode="zero")  # type: ignore[arg-type]


def test_loss_falls_and_beats_chance_on_real_reviews(trained_classifier) -> None:
    m = trained_classifier.metrics
    train_losses = [h["loss"] for h in m["history"] if h["split"] == "train"]
    assert train_losses[-1] < train_losses[0] < 0.72
    assert m["best_valid_accuracy"] > 0.6  # 3,200 char-level reviews, 2 short epochs
    assert 0.55 < m["test_accuracy"] <= 1 and 0 < m["test_f1"] <= 1
    files = sorted(p.name for p in trained_classifier.model_dir.iterdir())
    assert files == [".nlpkit-model.json", "config.json", "loss_curves.png", "metrics.json", "model.safetensors",
                     "training_state.json", "training_state.safetensors", "vocab.json"]


def test_predict_text_and_errors(trained_classifier) -> None:
    path = trained_classifier.model_dir
    label, prob = predict_text(path, "최고의 영화, 정말 재미있고 감동적이에요")
    assert label in ("0", "1") and 0.5 <= prob <= 1
    assert [p.name for p in predict(path, ["재미있다", "지루하다"])] == [
        predict_text(path, "재미있다")[0], predict_text(path, "지루하다")[0]]
    with pytest.raises(ModelError, match="empty text"):
        predict_text(path, "   ")
    with pytest.raises(ModelError, match="vocabulary"):
        predict_text(path, "ΩΩΩ ЖЖЖ")
