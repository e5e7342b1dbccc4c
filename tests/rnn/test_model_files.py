"""Hostile model directories and --out folders: nothing of the user's is ever deleted, and every damaged or
hand-edited model file is a one-line error before anything large is allocated."""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from nlpkit.errors import CheckpointError
from nlpkit.rnn.checkpoint import MARKER, check_out_dir, save_model_dir
from nlpkit.rnn.classify import load_classifier
from nlpkit.rnn.lm import LMConfig, RNNLanguageModel
from nlpkit.rnn.lm_train import load_lm, train_lm
from nlpkit.rnn.seq2seq import Seq2Seq, Seq2SeqConfig
from nlpkit.rnn.seq2seq_train import load_seq2seq
from nlpkit.rnn.train_loop import TrainOptions
from nlpkit.rnn.vocab import Vocab
from tests.cli_harness import cli_invoker, run_cli_child



_run_cli = run_cli_child


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    return cli_invoker(tmp_path, monkeypatch)


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _thesis(root: Path) -> Path:
    (root / "chapters").mkdir(parents=True)
    (root / "thesis.tex").write_text("\\documentclass{article} 논문", encoding="utf-8")
    (root / "chapters" / "ch1.tex").write_text("Chapter 1\n" * 100, encoding="utf-8")
    (root / "config.json").write_text('{"my": "own settings"}', encoding="utf-8")  # a name nlpkit also uses
    return root


def _tiny_lm(out: Path) -> Path:
    torch.manual_seed(0)
    vocab = Vocab.build([list("hello world, 안녕하세요")], level="char")
    model = RNNLanguageModel(LMConfig(vocab_size=len(vocab), embed_dim=8, hidden_size=12, num_layers=1,
                                      tie_weights=False))
    return save_model_dir(out, model, config={"kind": "lm", "model": model.config.to_dict(), "seq_len": 16},
                          vocab=vocab, metrics={})


# -- --out never deletes a user's folder ---------------------------------------------------------------------

@pytest.fixture
def text_file(shakespeare: str, tmp_path: Path) -> Path:
    p = tmp_path / "input.txt"
    p.write_text(shakespeare[:12_000], encoding="utf-8")
    return p


LM_ARGS = ("--hidden-size", "16", "--layers", "1", "--seq-len", "16", "--batch-size", "8", "--epochs", "1",
           "--threads", "1", "--no-amp", "--device", "cpu")


def test_train_out_refuses_a_user_folder_and_keeps_every_file(cli, tmp_path: Path, text_file: Path) -> None:
    thesis = _thesis(tmp_path / "thesis")
    before = _tree(thesis)
    for extra in ((), ("--overwrite",)):
        code, out = cli("train", "lm", "--text", str(text_file), "--out", str(thesis), *LM_ARGS, *extra)
        assert code == 2, out
        assert out.startswith("error:") and "nlpkit did not write" in out and "nothing in it is lost" in out
        assert _tree(thesis) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp/old siblings
    with pytest.raises(CheckpointError, match="nlpkit did not write"):  # the library's own safety net
        _tiny_lm(thesis)
    assert _tree(thesis) == before


def test_overwrite_replaces_only_nlpkit_model_dirs(cli, tmp_path: Path, text_file: Path) -> None:
    out_dir = tmp_path / "m"
    out_dir.mkdir()  # an empty folder is fine
    code, out = cli("train", "lm", "--text", str(text_file), "--out", str(out_dir), *LM_ARGS)
    assert code == 0, out
    marker = json.loads((out_dir / MARKER).read_text(encoding="utf-8"))
    assert marker["kind"] == "lm" and marker["format"] == "nlpkit.rnn/1"
    first = (out_dir / "model.safetensors").read_bytes()
    code, out = cli("train", "lm", "--text", str(text_file), "--out", str(out_dir), *LM_ARGS)
    assert code == 2 and "already holds an nlpkit model; pass --overwrite" in out, out
    assert (out_dir / "model.safetensors").read_bytes() == first
    code, out = cli("train", "lm", "--text", str(text_file), "--out", str(out_dir), *LM_ARGS, "--overwrite",
                    "--seed", "1")
    assert code == 0, out
    assert (out_dir / "model.safetensors").read_bytes() != first and (out_dir / MARKER).is_file()
    (out_dir / "notes.txt").write_text("my notes", encoding="utf-8")
    code, out = cli("train", "lm", "--text", str(text_file), "--out", str(out_dir), *LM_ARGS, "--overwrite")
    assert code == 2 and "also holds files nlpkit did not write (notes.txt)" in out, out
    assert (out_dir / "notes.txt").read_text(encoding="utf-8") == "my notes"
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(CheckpointError, match="is a file, not a directory"):
        check_out_dir(tmp_path / "f", overwrite=True)


# -- damaged and hand-edited model files ---------------------------------------------------------------------

@pytest.fixture
def lm_dir(trained_lm: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "lm"
    shutil.copytree(trained_lm, dst)
    return dst


def _edit_config(d: Path, **model: object) -> None:
    cfg = json.loads((d / "config.json").read_text(encoding="utf-8"))
    cfg["model"].update(model)
    (d / "config.json").write_text(json.dumps(cfg), encoding="utf-8")


def _rewrite_weights(d: Path, fn, metadata: dict[str, str] | None = None) -> None:
    from safetensors import safe_open

    with safe_open(str(d / "model.safetensors"), framework="pt") as f:
        meta = dict(f.metadata() or {})
    tensors = fn(load_file(str(d / "model.safetensors")))
    save_file(tensors, str(d / "model.safetensors"), metadata={**meta, **(metadata or {})})


def test_huge_hidden_size_is_refused_before_allocating(lm_dir: Path, tmp_path: Path) -> None:
    _edit_config(lm_dir, hidden_size=20_000)
    code, peak_mb, out = _run_cli(tmp_path, "generate", str(lm_dir), "-n", "5")
    assert code == 2, out
    assert "weights do not match the model in config.json" in out and "Traceback" not in out
    assert peak_mb < 1500, f"peak RSS {peak_mb} MiB"  # was 3+ GB: the model was built before the shape check
    _edit_config(lm_dir, hidden_size=10**12)
    with pytest.raises(CheckpointError, match=r"hidden_size = 1000000000000 is outside the sane range 0..65,536"):
        load_lm(lm_dir)


@pytest.mark.parametrize(("edit", "says"), [
    ({"hidden_size": "64"}, "hidden_size must be a whole number"),
    ({"hidden_size": True}, "hidden_size must be a whole number"),
    ({"dropout": float("nan")}, "dropout must be a finite number"),
    ({"num_layers": -1}, "num_layers = -1 is outside the sane range"),
    ({"tie_weights": "yes"}, "tie_weights must be true or false"),
    ({"arch": "transformer"}, "arch must be 'lstm' or 'gru'"),
    ({"extra": 1}, "unknown model setting"),
])
def test_bad_config_values_are_named(lm_dir: Path, edit: dict[str, object], says: str) -> None:
    _edit_config(lm_dir, **edit)
    with pytest.raises(CheckpointError, match=says):
        load_lm(lm_dir)


def test_bad_alias_metadata_and_nan_weights(lm_dir: Path, cli) -> None:
    _rewrite_weights(lm_dir, lambda t: t, {"aliases": "[1,2]"})
    with pytest.raises(CheckpointError, match="alias metadata must map tensor names to tensor names"):
        load_lm(lm_dir)
    _rewrite_weights(lm_dir, lambda t: t, {"aliases": "{}"})

    def poison(t: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        t["decoder.bias"][3] = float("nan")
        return t

    _rewrite_weights(lm_dir, poison)
    code, out = cli("models", "generate", str(lm_dir), "-n", "5")
    assert code == 2 and out.startswith("error:") and "'decoder.bias'" in out and "NaN or infinite" in out, out


def test_nan_classifier_is_refused_by_predict(trained_classifier, tmp_path: Path, cli) -> None:
    d = tmp_path / "cls"
    shutil.copytree(trained_classifier.model_dir, d)
    code, out = cli("models", "predict", str(d), "재미있는 영화")
    assert code == 0 and "nan" not in out, out

    def poison(t: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        name = next(k for k in t if k.endswith("weight"))
        t[name].view(-1)[0] = float("inf")
        return t

    _rewrite_weights(d, poison)
    code, out = cli("models", "predict", str(d), "재미있는 영화")
    assert code == 2 and "NaN or infinite" in out, out  # was: probability "nan", exit 0
    shutil.copy(trained_classifier.model_dir / "model.safetensors", d / "model.safetensors")
    cfg = json.loads((d / "config.json").read_text(encoding="utf-8"))
    cfg["labels"] = "[1,2]"
    (d / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    with pytest.raises(CheckpointError, match="'labels' must be a non-empty list"):
        load_classifier(d)


def test_seq2seq_dir_is_checked_too(tmp_path: Path) -> None:
    from nlpkit.rnn.seq2seq import addition_vocab

    vocab = addition_vocab()
    model = Seq2Seq(Seq2SeqConfig(vocab_size=len(vocab), embed_dim=8, hidden_size=16))
    d = save_model_dir(tmp_path / "s2s", model, config={"kind": "seq2seq", "model": model.config.to_dict(),
                                                        "max_digits": 3, "n_train": 10, "n_test": 10},
                       vocab=vocab, metrics={})
    load_seq2seq(d)
    _edit_config(d, hidden_size=30_000)
    with pytest.raises(CheckpointError, match="weights do not match"):
        load_seq2seq(d)
    (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:100])
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_seq2seq(d)


_VALUES = st.one_of(
    st.integers(min_value=-(10**15), max_value=10**15), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.none(), st.text(max_size=8), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.dictionaries(st.sampled_from(["vocab_size", "embed_dim", "hidden_size", "num_layers", "dropout",
                                               "tie_weights", "layer_norm", "level", "arch", "seq_len"]),
                             _VALUES, min_size=1, max_size=3))
def test_random_config_values_never_traceback_or_allocate(tmp_path: Path, edits: dict[str, object]) -> None:
    d = tmp_path / "h"
    if not d.exists():
        _tiny_lm(d)
    original = (d / "config.json").read_text(encoding="utf-8")
    cfg = json.loads(original)
    for key, value in edits.items():
        (cfg if key == "seq_len" else cfg["model"])[key] = value
    (d / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        load_lm(d)
    except CheckpointError as e:
        assert "\n" not in str(e) and "config.json" in str(e) or "model.safetensors" in str(e)
    finally:
        (d / "config.json").write_text(original, encoding="utf-8")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 200 * 1024  # KiB: < 200 MiB more


# -- sizes from headers and config, before anything is allocated (issue #20) ---------------------------------

def _header(tensors: dict[str, dict[str, object]]) -> bytes:
    raw = json.dumps(tensors).encode()
    return len(raw).to_bytes(8, "little") + raw


def test_config_nested_100000_deep_is_one_line_for_generate_and_predict(lm_dir: Path, cli) -> None:
    (lm_dir / "config.json").write_text('{"format": "nlpkit.rnn/1", "kind": "lm", "x": ' + "[" * 100_000
                                        + "]" * 100_000 + "}", encoding="utf-8")
    for args in (("models", "generate", str(lm_dir), "-n", "5"), ("models", "predict", str(lm_dir), "좋은 영화")):
        code, out = cli(*args)
        assert code == 2, out
        assert out.startswith("error:") and len(out.strip().splitlines()) == 1, out
        assert "config.json nests 100,001 levels deep" in out and "Recursion" not in out


def test_sparse_safetensors_declaring_gigabytes_is_refused_from_the_header(lm_dir: Path, monkeypatch) -> None:
    """32 MB on disk, 3.4 GB declared: refused from the 8-byte length and the header, no tensor read."""
    import safetensors

    nbytes = 5_000_000 * 170 * 4
    head = _header({"embedding.weight": {"dtype": "F32", "shape": [5_000_000, 170], "data_offsets": [0, nbytes]}})
    path = lm_dir / "model.safetensors"
    with path.open("wb") as f:
        f.write(head)
        f.write(b"\0" * (32 << 20))
        f.truncate(len(head) + nbytes)  # sparse: the rest is a hole
    assert path.stat().st_size > 3_000_000_000
    monkeypatch.setattr(safetensors, "safe_open", lambda *a, **k: pytest.fail("a tensor was opened"))
    with pytest.raises(CheckpointError, match=r"tensor 'embedding.weight': the weights declare over 2,147,483,648 "
                                              r"bytes \(shape \(5000000, 170\), F32\)"):
        load_lm(lm_dir)


@pytest.mark.parametrize(("tensors", "says"), [
    ({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 15]}}, "do not hold its 16 bytes"),
    ({"a": {"dtype": "F32", "shape": [10**9], "data_offsets": [0, 4 * 10**9]}}, "do not hold its"),
    ({"a": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, "needs a dtype of F64"),
    ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, "is not a list of at most 8 sizes"),
    ({"a": {"dtype": "F32", "shape": [1] * 9, "data_offsets": [0, 4]}}, "is not a list of at most 8 sizes"),
    ({"a": {"dtype": "F32", "shape": [[1]], "data_offsets": [0, 4]}}, "nests too deep"),
])
def test_header_sizes_are_checked(tmp_path: Path, tensors: dict, says: str) -> None:
    from nlpkit.rnn.model_checks import safetensors_shapes

    p = tmp_path / "model.safetensors"
    p.write_bytes(_header(tensors) + b"\0" * 16)
    with pytest.raises(CheckpointError, match=says):
        safetensors_shapes(p)


def test_header_shapes_are_compared_with_the_config_before_reading(lm_dir: Path, monkeypatch) -> None:
    """A file whose embedding has other rows than config.json says: refused from the header."""
    from safetensors import safe_open

    with safe_open(str(lm_dir / "model.safetensors"), framework="pt") as f:
        meta = dict(f.metadata() or {})
    tensors = load_file(str(lm_dir / "model.safetensors"))
    tensors["embedding.weight"] = torch.zeros(tensors["embedding.weight"].shape[0] + 7,
                                              tensors["embedding.weight"].shape[1])
    save_file(tensors, str(lm_dir / "model.safetensors"), metadata=meta)
    import nlpkit.rnn.checkpoint as ckpt

    monkeypatch.setattr(ckpt, "_read_safetensors", lambda *a: pytest.fail("tensors were read"))
    with pytest.raises(CheckpointError, match=r"tensor 'embedding.weight' has shape"):
        load_lm(lm_dir)


def test_vocab_longer_than_the_embedding_is_refused(lm_dir: Path, cli) -> None:
    data = json.loads((lm_dir / "vocab.json").read_text(encoding="utf-8"))
    data["itos"] += [f"extra{i}" for i in range(50)]
    (lm_dir / "vocab.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    cfg = json.loads((lm_dir / "config.json").read_text(encoding="utf-8"))
    cfg["vocab_sha256"] = Vocab.load(lm_dir / "vocab.json").sha256  # the digest updated to match
    (lm_dir / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    code, out = cli("models", "generate", str(lm_dir), "-n", "5")
    assert code == 2 and "IndexError" not in out, out
    rows = cfg["model"]["vocab_size"]
    assert f"holds {rows + 50:,} tokens but the model's embedding has {rows:,} rows" in out


def test_deep_vocab_json_is_one_line(lm_dir: Path) -> None:
    (lm_dir / "vocab.json").write_text('{"format": "x", "itos": ' + "[" * 50_000 + "]" * 50_000 + "}")
    with pytest.raises(CheckpointError, match=r"vocab.json nests 50,001 levels deep"):
        load_lm(lm_dir)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(header=st.dictionaries(st.text(max_size=8), st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F16", "I64", "BOOL", "X"]),
    "shape": st.lists(st.integers(-2, 2**45), max_size=10),
    "data_offsets": st.lists(st.integers(-5, 2**45), min_size=0, max_size=3)}), max_size=4),
    tail=st.integers(0, 64))
def test_any_header_is_read_or_refused_in_one_line(tmp_path_factory, header: dict, tail: int) -> None:
    from nlpkit.rnn.model_checks import safetensors_shapes

    p = tmp_path_factory.mktemp("h") / "model.safetensors"
    p.write_bytes(_header(header) + b"\0" * tail)
    try:
        shapes = safetensors_shapes(p)
    except CheckpointError as e:
        assert "\n" not in str(e) and str(p) in str(e)
        return
    assert set(shapes) == set(header) - {"__metadata__"}
