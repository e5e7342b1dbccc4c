"""Classical text-classification baseline: TF-IDF n-grams + logistic regression, saved with skops.

``train_baseline`` reads a labelled dataset with ``train``/``valid``/``test`` splits, fits the
TF-IDF vocabulary once on train, picks ``C`` on valid, evaluates on valid and test, and writes:

- a new version of dataset ``<dataset>_baseline``: table ``data`` (metrics per split), table
  ``grid`` (valid accuracy per ``C``), ``tfidf/`` (the project's one TF-IDF, vocabulary JSON +
  idf ``.npy``), ``model.skops`` (the classifier) and ``baseline_config.json`` (with the
  :class:`~nlpkit.tokenize.TermSpec`, the tokens dataset version and the dictionaries' sha256);
- one row per evaluated split to the append-only table ``model_runs``.

Variant ``nblr`` scales the TF-IDF features by the naive Bayes log-count ratio before the
logistic regression (the NB-LR of Wang & Manning 2012). Models are loaded with an explicit
list of trusted types: skops refuses anything else, so no pickle is ever executed.

Tokens are computed once: training reads the stored ``tokens_<dataset>_<backend>`` dataset
(tokenized incrementally by the tokenize stage); ``predict`` tokenizes new text with exactly
the stored spec. The default ``regex`` backend is scikit-learn's token pattern, so the
numbers match ``TfidfVectorizer(ngram_range=(1, 2))`` on raw text.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from nlpkit.datasets.download import ProgressFn
from nlpkit.datasets.labels import label_names, name_of
from nlpkit.errors import DatasetError, ModelError
from nlpkit.features.tfidf import TokenTfidf
from nlpkit.models.labelled import labelled_rows, sample_rows, split_terms
from nlpkit.models.prediction import Prediction
from nlpkit.models.runs import MODEL_RUNS, append_runs
from nlpkit.store.model_runs import confusion_detail
from nlpkit.store.versions import Store, VersionInfo
from nlpkit.suggest import missing_hint
from nlpkit.tokenize.spec import TermSpec

__all__ = [
    "MODEL_FILE", "CONFIG_FILE", "MODEL_RUNS", "TRUSTED_TYPES", "BaselineConfig", "BaselineResult",
    "NBWeighting", "Prediction", "evaluate_baseline", "load_baseline", "predict_texts", "train_baseline",
]

MODEL_FILE = "model.skops"
CONFIG_FILE = "baseline_config.json"

#: Types beyond skops' own safe set that a saved baseline may contain; anything else is refused.
TRUSTED_TYPES = ["nlpkit.models.baseline.NBWeighting"]
TFIDF_DIR = "tfidf"


@dataclass(frozen=True, slots=True)
class BaselineConfig:
    """Hyper-parameters of the baseline (all go into the manifest and ``model_runs.params``)."""

    # Raw text works best for IMDB: valid/test 0.904/0.904 vs 0.902/0.893 on clean_text, whose
    # stopword list drops negations ("not", "no", "wasn").
    text_column: str = "text"
    tokenizer: str = "regex"  # any registered backend; regex = scikit-learn's token pattern, lower-cased
    user_dicts: tuple[str, ...] = ()
    ngram_max: int = 2  # word n-grams 1..ngram_max
    min_df: int = 2
    sublinear_tf: bool = True
    c_grid: tuple[float, ...] = (8.0, 16.0, 32.0, 64.0, 128.0, 256.0)  # chosen on the valid split
    variant: Literal["lr", "nblr"] = "lr"
    # NB-LR smoothing; tf-idf sums are small, so alpha=1 swamps them. IMDB valid accuracy:
    # alpha 1.0 -> 0.905, 0.1 -> 0.910, 0.03 -> 0.908, 0.01 -> 0.904.
    nb_alpha: float = 0.1
    max_iter: int = 1000
    seed: int = 0
    # label names are not a setting: they come from the dataset (nlpkit.datasets.labels.label_names)

    def validate(self) -> None:
        if self.variant not in ("lr", "nblr"):
            raise ModelError(f"variant {self.variant!r}: expected 'lr' or 'nblr'")
        if self.ngram_max < 1 or self.min_df < 1:
            raise ModelError(f"ngram_max and min_df must be >= 1, got {self.ngram_max} and {self.min_df}")
        if self.nb_alpha <= 0:
            raise ModelError(f"nb_alpha must be > 0, got {self.nb_alpha}")
        if not self.c_grid or any(c <= 0 for c in self.c_grid):
            raise ModelError(f"c_grid must hold positive values, got {self.c_grid}")

    def spec(self) -> TermSpec:
        """How texts become the baseline's terms (stored with the model, used again by ``predict``)."""
        return TermSpec(backend=self.tokenizer, user_dicts=tuple(self.user_dicts), view="morphs", lowercase=True,
                        ngram_max=self.ngram_max)


class NBWeighting(TransformerMixin, BaseEstimator):
    """Multiply each feature by its naive Bayes log-count ratio ``log(p/|p|) - log(q/|q|)``.

    Binary labels only (the positive class is the larger label).
    """

    def __init__(self, *, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, X: Any, y: Any) -> NBWeighting:
        y = np.asarray(y)
        classes = np.unique(y)
        if len(classes) != 2:
            raise ModelError(f"NBWeighting needs exactly 2 classes, got {len(classes)}: {classes[:10].tolist()}")
        p = self.alpha + np.asarray(X[y == classes[1]].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(X[y == classes[0]].sum(axis=0)).ravel()
        self.r_ = np.log(p / p.sum()) - np.log(q / q.sum())
        return self

    def transform(self, X: Any) -> Any:
        check_is_fitted(self, "r_")
        return X.multiply(self.r_).tocsr()


@dataclass(frozen=True, slots=True)
class BaselineResult:
    """What one training run produced."""

    model: VersionInfo
    c: float
    metrics: dict[str, dict[str, float]]  # split -> {accuracy, f1, n}
    fit_seconds: float


def _tokens_name(dataset: str, config: BaselineConfig) -> str:
    from nlpkit.tokenize.dataset import tokens_dataset_name

    name = tokens_dataset_name(dataset, config.tokenizer)
    return name if config.text_column == "text" else f"{name}_{config.text_column}"


def _update_tokens(store: Store, dataset: str, config: BaselineConfig, spec: TermSpec,
                   version: str) -> dict[str, Any]:
    """Bring the stored tokens of ``dataset`` ``version`` up to date for ``spec`` (tokenizing only documents
    never tokenized with it); the provenance to record (tokens dataset, its version, dictionaries)."""
    from nlpkit.tokenize.dataset import tokenize_dataset
    from nlpkit.tokenize.stored_terms import current_tokens

    if store.latest(dataset).version != version:
        raise DatasetError(f"dataset {dataset!r} moved on from {version}; retrain the baseline")
    name, kw = _tokens_name(dataset, config), {"user_dicts": spec.user_dicts, "options": dict(spec.options),
                                               "text_column": config.text_column}
    current = current_tokens(store, dataset, spec.backend, out_name=name, **kw)
    if current is None:
        current = tokenize_dataset(store, dataset, spec.backend, out_name=name, **kw).version
    return {"tokens_dataset": name, "tokens_version": current, "dict_sha256": list(spec.dict_sha256)}


def _scores(model: Any, x: Any, y: np.ndarray) -> dict[str, float]:
    """Accuracy, F1 and n of ``model`` on ``x`` (a TF-IDF matrix, or term lists for a model that starts with TF-IDF)."""
    from sklearn.metrics import accuracy_score, f1_score

    pred = model.predict(x)
    average = "binary" if len(np.unique(np.concatenate([y, pred]))) <= 2 else "macro"
    return {"accuracy": float(accuracy_score(y, pred)), "f1": float(f1_score(y, pred, average=average)), "n": len(y)}


def train_baseline(
    store: Store,
    dataset: str,
    config: BaselineConfig = BaselineConfig(),
    *,
    model_name: str | None = None,
    progress: ProgressFn | None = None,
) -> BaselineResult:
    """Fit, tune on valid, evaluate and store the baseline for ``dataset`` (its latest version).

    ``progress(stage, done, total)`` is called as the steps (vectorize, each C, evaluate) finish.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    config.validate()
    model_name = model_name or f"tfidf_{config.variant}"
    info = store.latest(dataset)
    columns = store.columns(dataset, version=info.version)
    text_column = config.text_column
    missing = [c for c in ("split", "label", text_column, "id") if c not in columns]
    if missing:
        raise DatasetError(f"dataset {dataset!r} lacks column(s) {', '.join(missing)}; it has {', '.join(columns)}")
    spec = config.spec()
    data = labelled_rows(store, dataset, info.version)
    if not data["train"].ids or not data["test"].ids:
        raise DatasetError(f"dataset {dataset!r} needs labelled 'train' and 'test' rows; "
                           f"found {len(data['train'].ids)} train, {len(data['test'].ids)} test")
    y_all = data["train"].y
    if y_all.dtype.kind == "f" and not np.all(np.mod(y_all, 1) == 0):
        raise DatasetError(f"dataset {dataset!r} has continuous labels (e.g. similarity scores); "
                           "the baseline is a classifier and needs class labels")
    if len(config.c_grid) > 1 and not data["valid"].ids:
        raise DatasetError(f"dataset {dataset!r} has no 'valid' rows to choose C on; give a single-value c_grid")
    provenance = _update_tokens(store, dataset, config, spec, info.version)

    steps_total = len(config.c_grid) + 2
    tick = (lambda i: progress("train baseline", i, steps_total)) if progress else (lambda i: None)
    tick(0)
    started = time.perf_counter()
    # each split's terms are made once, streamed from the stored tokens into its TF-IDF matrix (built once)
    vec = TokenTfidf(min_df=config.min_df, sublinear_tf=config.sublinear_tf)  # n-grams come from the spec
    x_train = vec.fit_transform(split_terms(store, spec, provenance, data["train"]))
    y_train = data["train"].y
    nb = NBWeighting(alpha=config.nb_alpha).fit(x_train, y_train) if config.variant == "nblr" else None
    x = {"train": nb.transform(x_train) if nb is not None else x_train}
    del x_train
    for split in ("valid", "test"):
        if data[split].ids:
            m = vec.transform(split_terms(store, spec, provenance, data[split]))
            x[split] = nb.transform(m) if nb is not None else m
    tick(1)
    grid: list[dict[str, float]] = []
    best: tuple[float, float, Any] | None = None
    for c in config.c_grid:
        t0 = time.perf_counter()
        # liblinear is binary-only in scikit-learn >= 1.8; multiclass (korean_news: 8 topics) uses lbfgs (softmax)
        solver = "liblinear" if len(np.unique(y_train)) <= 2 else "lbfgs"
        lr = LogisticRegression(C=c, solver=solver, max_iter=config.max_iter, random_state=config.seed)
        lr.fit(x["train"], y_train)
        acc = float("nan")
        if "valid" in x:
            acc = float((lr.predict(x["valid"]) == data["valid"].y).mean())
        grid.append({"c": float(c), "valid_accuracy": acc, "fit_seconds": round(time.perf_counter() - t0, 3)})
        if best is None or acc > best[0]:  # ties keep the smaller (earlier) C
            best = (acc, float(c), lr)
        tick(1 + len(grid))
    assert best is not None
    steps = [("tfidf", vec), *([("nb", nb)] if nb is not None else []), ("lr", best[2])]
    classifier = Pipeline(steps[1:])  # what model.skops holds; the TF-IDF is saved as JSON + .npy
    fit_seconds = time.perf_counter() - started
    metrics = {s: _scores(best[2], x[s], data[s].y) for s in ("valid", "test") if s in x}  # x: NB-weighted already
    names = label_names(store, dataset, info.version)
    classes_ = [int(c) for c in best[2].classes_]
    detail = {s: confusion_detail(data[s].y, best[2].predict(x[s]), classes_, [name_of(names, c) for c in classes_])
              for s in ("valid", "test") if s in x}
    tick(steps_total)

    created = datetime.now(UTC).isoformat(timespec="seconds")
    params = {**asdict(config), "c_grid": list(config.c_grid), "c": best[1], "text_column": text_column,
              "user_dicts": list(config.user_dicts), "label_names": names}
    saved = {"model": model_name, "dataset": dataset, "dataset_version": info.version, "classes":
             [int(c) for c in best[2].classes_], "created_at": created, "params": params,
             "trusted_types": TRUSTED_TYPES, "metrics": metrics,
             "spec": spec.to_dict(), **provenance}
    import skops.io as sio

    with store.write_version(f"{dataset}_baseline", parameters=params, source=f"{dataset} {info.version}") as w:
        w.write(pa.Table.from_pylist([{"split": s, **m, "c": best[1]} for s, m in metrics.items()]))
        w.write(pa.Table.from_pylist(grid), "grid")
        vec.save(w.dir / TFIDF_DIR)
        sio.dump(classifier, w.dir / MODEL_FILE, compression=zipfile.ZIP_DEFLATED)
        (w.dir / CONFIG_FILE).write_text(json.dumps(saved, indent=2), encoding="utf-8")
        w.counts.update({"n_train": len(y_train), "n_features": len(vec.vocabulary_)})
    version = store.latest(f"{dataset}_baseline")
    rows = [{"model": model_name, "dataset": dataset, "dataset_version": info.version, "split": s,
             "accuracy": m["accuracy"], "f1": m["f1"], "n": m["n"], "n_train": len(y_train),
             "elapsed_s": round(fit_seconds, 3), "params": json.dumps(params), "model_version": version.version,
             "created_at": created, **detail[s]} for s, m in metrics.items()]
    append_runs(store, rows)
    return BaselineResult(version, best[1], metrics, fit_seconds)


def _read_baseline_config(path: Path) -> dict[str, Any]:
    """``baseline_config.json``, checked for the keys prediction and evaluation use."""
    if not path.is_file():
        raise ModelError(f"{path} is missing; the saved baseline is incomplete (retrain it with `nlpkit models baseline`)")
    try:
        config = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"{path} is not readable JSON ({e}); retrain the baseline with `nlpkit models baseline`") from e
    params = config.get("params") if isinstance(config, dict) else None
    if (not isinstance(params, dict) or not isinstance(params.get("text_column"), str)
            or not isinstance(params.get("label_names") or {}, dict)
            or not isinstance(config.get("dataset_version"), str)):
        raise ModelError(f"{path} lacks 'params.text_column', 'params.label_names' or 'dataset_version'; "
                         "the file is damaged (retrain the baseline with `nlpkit models baseline`)")
    return config


def load_baseline(store: Store, dataset: str) -> tuple[Any, dict[str, Any]]:
    """The latest saved baseline of ``dataset`` (loaded with the trusted types only) and its config.

    A missing, truncated or foreign ``model.skops`` (a pickle renamed, a damaged ``schema.json``
    inside it) or a bad ``baseline_config.json`` is a ModelError naming the file; nothing is unpickled.
    """
    import skops.io as sio

    try:
        info = store.latest(f"{dataset}_baseline")
    except DatasetError as e:
        names = store.datasets()
        models = [d.removesuffix("_baseline") for d in names if d.endswith("_baseline")]
        hint, target = missing_hint(dataset, models, names, "baseline models")
        if hint:
            then = "" if target in models else f" (then train its baseline: `nlpkit models baseline {target}`)"
            raise ModelError(f"no baseline model for dataset {dataset!r}; {hint}{then}") from e
        raise ModelError(f"no baseline model for dataset {dataset!r}; train one with `nlpkit models baseline {dataset}`") from e
    config = _read_baseline_config(info.path / CONFIG_FILE)
    path = info.path / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"{path} is missing; the saved baseline is incomplete (retrain it with `nlpkit models baseline`)")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path} is not a skops file (not a zip archive: truncated, or another format such as a "
                         "pickle); refusing to load it. Retrain the baseline with `nlpkit models baseline`")
    try:
        unexpected = sorted(set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    except Exception as e:  # skops raises KeyError/JSONDecodeError/BadZipFile/... on a damaged schema.json
        raise ModelError(f"{path} is damaged: its skops schema cannot be read ({type(e).__name__}: {e}); "
                         "retrain the baseline with `nlpkit models baseline`") from e
    if unexpected:
        raise ModelError(f"refusing to load {path}: it contains types outside the trusted list: {', '.join(unexpected)}")
    try:
        model = sio.load(path, trusted=TRUSTED_TYPES)
    except Exception as e:  # skops raises UntrustedTypesFoundException and others
        raise ModelError(f"cannot load {path}: {type(e).__name__}: {e}") from e
    if not all(hasattr(model, a) for a in ("predict", "predict_proba", "classes_", "steps")):
        raise ModelError(f"{path} does not hold a fitted classifier pipeline; retrain it with `nlpkit models baseline`")
    if not isinstance(config.get("spec"), dict):
        raise ModelError(f"{info.path / CONFIG_FILE} has no term spec (a baseline from before stored tokens); "
                         "retrain it with `nlpkit models baseline`")
    from sklearn.pipeline import Pipeline

    tfidf = TokenTfidf.load(info.path / TFIDF_DIR)
    return Pipeline([("tfidf", tfidf), *model.steps]), config


def predict_texts(
    store: Store, dataset: str, texts: Sequence[str], *, nltk_data: Path | None = None
) -> list[Prediction]:
    """Label and probability for each text with the latest baseline of ``dataset``."""
    if isinstance(texts, str):
        raise ModelError("texts must be a list of strings, not one string")
    model, config = load_baseline(store, dataset)
    params = config["params"]
    inputs = list(texts)
    if params["text_column"] == "clean_text":
        from nlpkit.text.clean import TextCleaner

        inputs = list(TextCleaner(nltk_data=nltk_data).clean_batch(inputs))
    # the names stored with the model at training, else (a model trained before names were stored) the dataset's
    names: Mapping[str, str] = params.get("label_names") or label_names(store, dataset, config["dataset_version"])
    spec = TermSpec.from_dict(config["spec"])  # new text gets exactly the stored spec
    proba = model.predict_proba(list(spec.analyze_batch(inputs)))
    classes = model.classes_
    out = []
    for row in proba:
        i = int(np.argmax(row))
        label = int(classes[i])
        probs = {names.get(str(c), str(c)): float(p) for c, p in zip(classes, row, strict=True)}
        out.append(Prediction(label, names.get(str(label), str(label)), float(row[i]), probs))
    return out


def evaluate_baseline(store: Store, dataset: str, split: str = "test", *, limit: int | None = None,
                      seed: int = 0) -> dict[str, float]:
    """Reload the saved baseline (trusted types only) and score it on ``split`` of its dataset version.

    An independent check that the stored artifact reproduces the metrics recorded at training: the
    terms come from the tokens version the model recorded (nothing is tokenized). ``limit`` scores a
    stratified sample of about that many rows (fixed by ``seed``; the whole split when it is smaller):
    a cheap reload check, where the full split's figure is the one training stored.
    """
    model, config = load_baseline(store, dataset)
    rows = labelled_rows(store, dataset, config["dataset_version"]).get(split)
    if rows is None or not rows.ids:
        raise DatasetError(f"dataset {dataset!r} {config['dataset_version']} has no labelled {split!r} rows")
    if limit is not None:
        rows = sample_rows(rows, limit, seed)
    spec = TermSpec.from_dict(config["spec"])
    provenance = config
    if not config.get("tokens_dataset") or not config.get("tokens_version"):  # older models: bring tokens up to date
        known = set(BaselineConfig.__dataclass_fields__)
        cfg = BaselineConfig(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in config["params"].items()
                                if k in known})
        provenance = _update_tokens(store, dataset, cfg, spec, config["dataset_version"])
    return _scores(model, split_terms(store, spec, provenance, rows), rows.y)
