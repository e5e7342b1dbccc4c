"""TF-IDF baseline on a slice of real IMDB reviews: tuning, metrics rows, skops round trip, prediction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlpkit.datasets.imdb import ImdbOptions, build_imdb
from nlpkit.errors import DatasetError, ModelError
from nlpkit.models.baseline import (
    CONFIG_FILE, MODEL_FILE, MODEL_RUNS, BaselineConfig, NBWeighting, evaluate_baseline, load_baseline,
    predict_texts, train_baseline,
)
from nlpkit.store import Catalog, Store
from nlpkit.text.clean import CleanOptions, TextCleaner

NAMES = {0: "negative", 1: "positive"}


@pytest.fixture(scope="module")
def imdb_store(imdb_sample, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """300 real reviews per class and split (train incl. 20% valid, test), no unsup."""
    tmp = tmp_path_factory.mktemp("baseline")
    src = imdb_sample(300)
    store = Store(tmp / "data")
    cleaner = TextCleaner(options=CleanOptions(stopwords=False))  # clean_text is not used by the baseline
    build_imdb(store, src, cleaner=cleaner, options=ImdbOptions(valid_fraction=0.2, include_unsup=False))
    return store


def test_train_tunes_c_on_valid_and_records_runs(imdb_store: Store) -> None:
    result = train_baseline(imdb_store, "imdb", BaselineConfig(c_grid=(1.0, 16.0)))
    grid = imdb_store.read("imdb_baseline", "grid").to_pylist()
    assert [g["c"] for g in grid] == [1.0, 16.0]
    best = max(grid, key=lambda g: g["valid_accuracy"])["valid_accuracy"]
    assert result.c == next(g["c"] for g in grid if g["valid_accuracy"] == best)  # first best wins
    assert result.metrics["valid"]["n"] == 120 and result.metrics["test"]["n"] == 600
    assert result.metrics["test"]["accuracy"] > 0.75  # 480 training reviews; the full set gives ~0.90
    files = result.model.manifest["files"]
    assert MODEL_FILE in files and CONFIG_FILE in files
    runs = [r for r in imdb_store.read_appended(MODEL_RUNS).to_pylist() if r["model_version"] == result.model.version]
    assert sorted(r["split"] for r in runs) == ["test", "valid"]
    test_row = next(r for r in runs if r["split"] == "test")
    assert test_row["accuracy"] == pytest.approx(result.metrics["test"]["accuracy"])
    assert test_row["model"] == "tfidf_lr" and test_row["n_train"] == 480 and json.loads(test_row["params"])["c"] == result.c
    _, rows = Catalog(imdb_store).query("SELECT model, dataset, split, accuracy, f1, created_at FROM model_runs")
    assert len(rows) >= 2


def test_saved_model_reloads_and_reproduces_metrics(imdb_store: Store) -> None:
    result = train_baseline(imdb_store, "imdb", BaselineConfig(c_grid=(16.0,)))
    assert evaluate_baseline(imdb_store, "imdb") == pytest.approx(result.metrics["test"])
    model, config = load_baseline(imdb_store, "imdb")
    assert config["params"]["c"] == 16.0 and config["dataset_version"] == "v1"
    assert [name for name, _ in model.steps] == ["tfidf", "lr"]
    vocab = model.named_steps["tfidf"].vocabulary_  # the shared TF-IDF, loaded from vocabulary.json + idf.npy
    assert sorted(vocab.values()) == list(range(len(vocab))) and "wonderful" in vocab
    assert (result.model.path / MODEL_FILE).stat().st_size < 2_000_000


def test_reload_check_on_a_sample_reads_the_recorded_tokens(imdb_store: Store) -> None:
    """``limit`` scores a stratified sample from the tokens version the model recorded (nothing re-tokenized);
    a limit over the split's size is the full evaluation."""
    from nlpkit.tokenize.dataset import tokenize_dataset

    result = train_baseline(imdb_store, "imdb", BaselineConfig(c_grid=(16.0,)))
    sample = evaluate_baseline(imdb_store, "imdb", limit=100, seed=3)
    assert sample["n"] == 100 and 0.6 < sample["accuracy"] <= 1.0
    assert sample == evaluate_baseline(imdb_store, "imdb", limit=100, seed=3)  # seeded
    assert evaluate_baseline(imdb_store, "imdb", limit=10_000) == pytest.approx(result.metrics["test"])
    # a newer tokens version (tokenized differently) does not change what the saved model is scored on
    recorded = json.loads((result.model.path / CONFIG_FILE).read_text())["tokens_version"]
    tokenize_dataset(imdb_store, "imdb", "words", out_name="tokens_imdb_regex")
    assert imdb_store.latest("tokens_imdb_regex").version != recorded
    assert evaluate_baseline(imdb_store, "imdb") == pytest.approx(result.metrics["test"])
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ModelError, match="limit must be an integer >= 1"):
            evaluate_baseline(imdb_store, "imdb", limit=bad)  # type: ignore[arg-type]
    train_baseline(imdb_store, "imdb", BaselineConfig(c_grid=(16.0,)))  # back to regex tokens


def test_predict_prints_label_names_and_probabilities(imdb_store: Store) -> None:
    train_baseline(imdb_store, "imdb", BaselineConfig(c_grid=(16.0,)))
    preds = predict_texts(imdb_store, "imdb", [
        "One of the best films I have ever seen. Brilliant acting, wonderful story, loved it.",
        "Awful. The worst movie ever, boring, terrible acting, a waste of time.",
    ])
    assert [p.name for p in preds] == ["positive", "negative"]
    assert all(0.5 < p.probability <= 1.0 for p in preds)
    with pytest.raises(ModelError, match="list of strings"):
        predict_texts(imdb_store, "imdb", "one string")  # type: ignore[arg-type]


def test_every_run_row_stores_a_confusion_matrix_with_the_datasets_label_names(imdb_store: Store) -> None:
    result = train_baseline(imdb_store, "imdb", BaselineConfig(c_grid=(16.0,)))
    runs = imdb_store.read_appended("model_runs").to_pylist()
    mine = {r["split"]: r for r in runs if r["model_version"] == result.model.version and r["dataset"] == "imdb"}
    assert set(mine) == {"valid", "test"}
    for split, row in mine.items():
        assert json.loads(row["classes"]) == [NAMES[0], NAMES[1]]  # names from nlpkit.datasets.labels, not ids
        matrix = np.asarray(json.loads(row["confusion"]))
        assert matrix.shape == (2, 2) and matrix.sum() == row["n"]
        assert matrix.trace() / matrix.sum() == pytest.approx(result.metrics[split]["accuracy"])


def test_nb_weighted_variant(imdb_store: Store) -> None:
    result = train_baseline(imdb_store, "imdb", BaselineConfig(variant="nblr", c_grid=(4.0,)))
    model, _ = load_baseline(imdb_store, "imdb")  # NBWeighting is on the trusted list
    assert isinstance(model.named_steps["nb"], NBWeighting)
    assert result.metrics["test"]["accuracy"] > 0.75
    assert imdb_store.read_appended(MODEL_RUNS).to_pylist()[-1]["model"] == "tfidf_nblr"


def test_untrusted_types_are_refused(imdb_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nlpkit.models.baseline as baseline

    train_baseline(imdb_store, "imdb", BaselineConfig(variant="nblr", c_grid=(4.0,)))
    monkeypatch.setattr(baseline, "TRUSTED_TYPES", [])
    with pytest.raises(ModelError, match="types outside the trusted list: nlpkit.models.baseline.NBWeighting"):
        load_baseline(imdb_store, "imdb")


def test_bad_inputs_are_clear_errors(imdb_store: Store, store: Store, shared_data: Path) -> None:
    with pytest.raises(ModelError, match="variant 'svm': expected 'lr' or 'nblr'"):
        train_baseline(imdb_store, "imdb", BaselineConfig(variant="svm"))  # type: ignore[arg-type]
    with pytest.raises(DatasetError, match="lacks column\\(s\\) body"):
        train_baseline(imdb_store, "imdb", BaselineConfig(text_column="body"))
    with pytest.raises(ModelError, match="no baseline model for dataset 'nsmc'; train one with `nlpkit models baseline nsmc`"):
        predict_texts(store, "nsmc", ["x"])
    from nlpkit.datasets.registry import rebuild

    rebuild(store, "korsts", str(shared_data / "kornlu"))
    with pytest.raises(DatasetError, match="'korsts' has continuous labels"):
        train_baseline(store, "korsts")
    with pytest.raises(ModelError, match="exactly 2 classes"):
        import numpy as np
        import scipy.sparse as sp

        NBWeighting().fit(sp.csr_matrix(np.ones((3, 2))), [0, 1, 2])


def test_damaged_saved_baseline_is_a_clear_error(imdb_store: Store, tmp_path: Path) -> None:
    """Truncated, foreign (a pickle renamed), bad schema.json, missing files: one ModelError each, no code run."""
    import pickle
    import zipfile

    train_baseline(imdb_store, "imdb", BaselineConfig(c_grid=(4.0,)))
    info = imdb_store.latest("imdb_baseline")
    model_file, config_file = info.path / MODEL_FILE, info.path / CONFIG_FILE
    good_model, good_config = model_file.read_bytes(), config_file.read_bytes()

    class Boom:
        def __reduce__(self):  # would run if unpickled
            return (Path(tmp_path / "pwned").touch, ())

    with zipfile.ZipFile(model_file) as z:
        members = {n: z.read(n) for n in z.namelist()}
    bad_schema = tmp_path / "bad_schema.skops"
    with zipfile.ZipFile(bad_schema, "w") as z:
        for n, data in members.items():
            z.writestr(n, b'{"__class__": 1, "content": [' if n == "schema.json" else data)
    cases = [
        (MODEL_FILE, good_model[: len(good_model) // 2], "is not a skops file"),
        (MODEL_FILE, pickle.dumps(Boom()), "is not a skops file"),
        (MODEL_FILE, bad_schema.read_bytes(), "is damaged: its skops schema cannot be read"),
        (MODEL_FILE, None, "model.skops is missing"),
        (CONFIG_FILE, None, "baseline_config.json is missing"),
        (CONFIG_FILE, b"{not json", "baseline_config.json is not readable JSON"),
        (CONFIG_FILE, b'{"params": []}', "lacks 'params.text_column'"),
    ]
    for name, content, says in cases:
        target = info.path / name
        target.unlink()
        if content is not None:
            target.write_bytes(content)
        with pytest.raises(ModelError, match=says) as err:
            predict_texts(imdb_store, "imdb", ["a fine film"])
        assert "\n" not in str(err.value) and str(info.path) in str(err.value)
        model_file.write_bytes(good_model)
        config_file.write_bytes(good_config)
    assert not (tmp_path / "pwned").exists()
    assert predict_texts(imdb_store, "imdb", ["a fine film"])[0].name in ("negative", "positive", "0", "1")


class _CountingRegex:
    """The regex backend, counting every text it analyses."""

    name = "countregex"
    calls = 0

    def __init__(self, *, user_dicts=(), **options) -> None:
        from nlpkit.tokenize.simple import RegexTokenizer  # not get_tokenizer: the registry's lock is held here

        self.inner = RegexTokenizer()
        self.config, self.fingerprint, self.dict_sha256 = self.inner.config, self.inner.fingerprint, ""

    def tokenize(self, text):
        _CountingRegex.calls += 1
        return self.inner.tokenize(text)

    def tokenize_batch(self, texts):
        for text in texts:
            yield self.tokenize(text)


def test_baseline_reads_stored_tokens_and_predict_uses_the_stored_spec(imdb_store: Store, monkeypatch) -> None:
    from nlpkit.tokenize import BACKENDS
    from nlpkit.tokenize.dataset import tokenize_dataset

    monkeypatch.setitem(BACKENDS, "countregex", f"{__name__}:_CountingRegex")
    _CountingRegex.calls = 0
    n = imdb_store.read("imdb").num_rows
    tokenize_dataset(imdb_store, "imdb", "countregex")  # the tokenize stage
    assert _CountingRegex.calls == n
    cfg = BaselineConfig(tokenizer="countregex", c_grid=(16.0,))
    result = train_baseline(imdb_store, "imdb", cfg)
    assert evaluate_baseline(imdb_store, "imdb") == pytest.approx(result.metrics["test"])
    assert _CountingRegex.calls == n  # training and evaluation never re-tokenized the corpus
    saved = json.loads((result.model.path / CONFIG_FILE).read_text())
    assert saved["tokens_dataset"] == "tokens_imdb_countregex" and saved["spec"]["backend"] == "countregex"
    assert [p.name for p in predict_texts(imdb_store, "imdb", ["Brilliant, wonderful, loved it."])] == ["positive"]
    assert _CountingRegex.calls == n + 1
    # the same numbers as scikit-learn's TfidfVectorizer on raw text (regex = its token pattern)
    default = train_baseline(imdb_store, "imdb", BaselineConfig(c_grid=(16.0,)))
    assert default.metrics == result.metrics
