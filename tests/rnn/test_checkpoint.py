"""Model directories: exact round trip, no pickle, resume, and clear errors for damaged or mismatched ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from nlpkit.errors import CheckpointError
from nlpkit.rnn.checkpoint import load_model_dir, save_model_dir
from nlpkit.rnn.classify import load_classifier
from nlpkit.rnn.lm import LMConfig, RNNLanguageModel
from nlpkit.rnn.lm_train import load_lm, train_lm
from nlpkit.rnn.train_loop import TrainOptions
from nlpkit.rnn.vocab import Vocab


def test_round_trip_is_exact_with_tied_weights(tmp_path: Path) -> None:
    torch.manual_seed(0)
    vocab = Vocab.build([["a", "b", "c", "a"]])
    model = RNNLanguageModel(LMConfig(vocab_size=len(vocab), level="word", embed_dim=6, hidden_size=10,
                                      tie_weights=True)).eval()
    save_model_dir(tmp_path / "m", model, config={"kind": "lm", "model": model.config.to_dict(), "seq_len": 8},
                   vocab=vocab, metrics={})
    loaded, _, vocab2 = load_lm(tmp_path / "m")
    assert vocab2 == vocab
    assert loaded.decoder.weight is loaded.embedding.weight  # still tied after loading
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    x = torch.randint(0, len(vocab), (2, 5))
    assert torch.equal(model(x)[0], loaded(x)[0])


def test_model_dir_has_no_pickle(trained_classifier) -> None:
    for f in trained_classifier.model_dir.iterdir():
        head = f.read_bytes()[:2]
        assert head != b"\x80\x04" and head != b"\x80\x02", f"{f.name} looks pickled"
        assert f.suffix in (".json", ".safetensors", ".png")


def test_classifier_reload_gives_identical_predictions(trained_classifier, nsmc_splits) -> None:
    model, config, vocab = load_classifier(trained_classifier.model_dir)
    model2, _, _ = load_classifier(trained_classifier.model_dir)
    x = torch.tensor([vocab.encode(list("재미있는영화"))])
    assert torch.equal(model(x, torch.tensor([x.shape[1]])), model2(x, torch.tensor([x.shape[1]])))
    assert config["labels"] == nsmc_splits.label_names


@pytest.fixture
def lm_copy(trained_lm: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(trained_lm, dst)
    return dst


def test_truncated_weights_are_reported(lm_copy: Path) -> None:
    f = lm_copy / "model.safetensors"
    f.write_bytes(f.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_lm(lm_copy)


def test_wrong_shape_names_the_tensor(lm_copy: Path) -> None:
    cfg = json.loads((lm_copy / "config.json").read_text())
    cfg["model"]["hidden_size"] = 32
    (lm_copy / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match=r"rnn.weight_hh_l0' has shape \(256, 64\), the model needs \(128, 32\)"):
        load_lm(lm_copy)


def test_swapped_vocabulary_and_missing_files(lm_copy: Path) -> None:
    Vocab.build([list("abc")], level="char").save(lm_copy / "vocab.json")
    with pytest.raises(CheckpointError, match="vocab.json does not belong to this model"):
        load_lm(lm_copy)
    (lm_copy / "vocab.json").unlink()
    with pytest.raises(CheckpointError, match="lacks vocab.json"):
        load_model_dir(lm_copy)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model_dir(lm_copy / "nope")


def test_wrong_kind_and_damaged_config(lm_copy: Path) -> None:
    with pytest.raises(CheckpointError, match="holds a lm model, but a classifier model was expected"):
        load_classifier(lm_copy)
    (lm_copy / "config.json").write_text("{oops")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_lm(lm_copy)


def test_resume_continues_from_saved_state(shakespeare: str, tmp_path: Path) -> None:
    opts = TrainOptions(epochs=1, batch_size=8, lr=5e-3, warmup_steps=5, threads=1)
    out = tmp_path / "lm"
    first = train_lm(shakespeare[:20_000], shakespeare[-3_000:], out=out, hidden_size=32, num_layers=1,
                     seq_len=32, opts=opts)
    resumed = train_lm(shakespeare[:20_000], shakespeare[-3_000:], out=out, opts=TrainOptions(
        epochs=2, batch_size=8, lr=5e-3, warmup_steps=5, threads=1), resume=True)
    # epoch 2 starts at a random offset, so it may have one window less
    assert resumed.metrics["epochs"] == 2 and 2 * first.metrics["steps"] - 1 <= resumed.metrics["steps"]
    assert len(resumed.metrics["history"]) == len(first.metrics["history"]) + 2
    assert json.loads((out / "config.json").read_text())["model"]["hidden_size"] == 32  # the saved config wins
    with pytest.raises(CheckpointError, match="holds a lm model"):
        from nlpkit.rnn.seq2seq_train import train_seq2seq

        train_seq2seq(out=out, resume=True, opts=opts)


def test_classifier_resume_keeps_its_tokenizer(trained_classifier, nsmc_splits, tmp_path: Path) -> None:
    from nlpkit.rnn.classify import train_classifier

    out = tmp_path / "cls"
    shutil.copytree(trained_classifier.model_dir, out)
    small = type(nsmc_splits)(texts={k: v[:200] for k, v in nsmc_splits.texts.items()},
                              labels={k: v[:200] for k, v in nsmc_splits.labels.items()},
                              label_names=nsmc_splits.label_names, notes=[])
    res = train_classifier(small, out=out, tokenizer="words", resume=True,
                           opts=TrainOptions(epochs=3, batch_size=64, threads=1))
    config = json.loads((out / "config.json").read_text())
    assert config["tokenizer"] == "chars" and res.metrics["epochs"] == 3  # continued from epoch 2
