"""Small real slices for the RNN tests: NSMC reviews, tiny-shakespeare, PTB (read directly from ../shared/data)."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="the RNN models need torch (pip install 'nlpkit[torch]')")


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    torch.set_num_threads(1)  # 2 shared cores: one thread per test process is fastest and fair


@pytest.fixture(scope="session")
def nsmc_rows(shared_data: Path) -> list[tuple[str, str]]:
    """(text, label) of the first 4,000 NSMC test-file reviews."""
    with zipfile.ZipFile(shared_data / "nsmc" / "ratings_test.zip") as z:
        lines = z.read("ratings_test.txt").decode("utf-8").splitlines()[1:4001]
    return [(parts[1], parts[2]) for parts in (line.split("\t") for line in lines)]


@pytest.fixture(scope="session")
def nsmc_splits(nsmc_rows: list[tuple[str, str]]):
    from nlpkit.rnn.data import split_labelled

    rng = random.Random(0)
    splits = ["train" if r < 0.8 else "valid" if r < 0.9 else "test" for r in (rng.random() for _ in nsmc_rows)]
    return split_labelled([t for t, _ in nsmc_rows], [lab for _, lab in nsmc_rows], splits)


@pytest.fixture(scope="session")
def shakespeare(shared_data: Path) -> str:
    return (shared_data / "lm" / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def ptb_lines(shared_data: Path) -> dict[str, list[str]]:
    out = {}
    for split in ("train", "valid"):
        out[split] = (shared_data / "lm" / "ptb" / f"ptb.{split}.txt").read_text(encoding="utf-8").splitlines()
    return out


@pytest.fixture(scope="session")
def trained_lm(shakespeare: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small char LM trained for a few seconds on real text (shared by sampling/checkpoint tests)."""
    from nlpkit.rnn.lm_train import train_lm
    from nlpkit.rnn.train_loop import TrainOptions

    out = tmp_path_factory.mktemp("lm") / "char_lm"
    train_lm(shakespeare[:60_000], shakespeare[-8_000:], out=out, hidden_size=64, num_layers=1, seq_len=32,
             opts=TrainOptions(epochs=2, batch_size=16, lr=1e-2, warmup_steps=10, threads=1))
    return out


@pytest.fixture(scope="session")
def trained_classifier(nsmc_splits, tmp_path_factory: pytest.TempPathFactory):
    """A small char-level GRU classifier trained on ~3,200 real NSMC reviews."""
    from nlpkit.rnn.classify import train_classifier
    from nlpkit.rnn.train_loop import TrainOptions

    out = tmp_path_factory.mktemp("cls") / "nsmc_gru"
    result = train_classifier(nsmc_splits, out=out, tokenizer="chars", arch="gru", embed_dim=32, hidden_size=48,
                              max_len=80, opts=TrainOptions(epochs=2, batch_size=64, lr=5e-3, warmup_steps=10,
                                                            threads=1))
    return result
