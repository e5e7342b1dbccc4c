"""The one ``model_runs`` table: its columns and the writer every model kind uses.

Classical baselines (:mod:`nlpkit.models.baseline`), cross-validated feature classifiers
(:mod:`nlpkit.features.runs`) and the RNN trainers (:mod:`nlpkit.rnn.reports`) all append
rows through :func:`run_table`/:func:`append_runs`, so ``model_runs`` has one schema and
``select * from model_runs`` lines every kind up. A row names its model, dataset, split and
run; metrics a kind does not measure stay null. Unknown keys are an error (a typo would
otherwise be dropped silently).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from nlpkit.errors import ModelError

__all__ = ["MODEL_RUNS", "RUN_SCHEMA", "METRICS", "append_runs", "confusion_detail", "new_run_id", "run_table"]

MODEL_RUNS = "model_runs"
#: Numeric measurements; null where a model kind does not report them.
METRICS = ("loss", "accuracy", "f1", "accuracy_std", "f1_std", "perplexity", "nats_per_token", "exact_match",
           "lr", "tokens_per_s")
RUN_SCHEMA = pa.schema(
    [("model", pa.string()), ("dataset", pa.string()), ("split", pa.string()), ("params", pa.string()),
     ("created_at", pa.string()), ("run_id", pa.string()), ("model_dir", pa.string()),
     ("model_version", pa.string()), ("dataset_version", pa.string()),
     ("epoch", pa.int32()), ("step", pa.int64()), ("elapsed_s", pa.float64()),
     ("n", pa.int64()), ("n_train", pa.int64())]
    + [(m, pa.float64()) for m in METRICS]
    # JSON detail of classification runs (class names, confusion matrix, top features per class)
    + [("classes", pa.string()), ("confusion", pa.string()), ("top_features", pa.string())]
)
_REQUIRED = ("model", "dataset", "split")


def confusion_detail(y_true: Sequence[Any], y_pred: Sequence[Any], classes: Sequence[Any],
                     names: Sequence[str]) -> dict[str, str]:
    """The ``classes`` (class *names*, in ``classes`` order) and ``confusion`` (rows true, columns predicted)
    columns of a classifier's ``model_runs`` row; every classifier kind stores its matrix through here.

    >>> confusion_detail([0, 1, 1], [0, 0, 1], [0, 1], ["부정", "긍정"])["confusion"]
    '[[1, 0], [1, 1]]'
    """
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(list(y_true), list(y_pred), labels=list(classes))
    return {"classes": json.dumps([str(n) for n in names], ensure_ascii=False), "confusion": json.dumps(matrix.tolist())}


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus six hex digits."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def _row(raw: Mapping[str, Any], created_at: str) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(RUN_SCHEMA.names))
    if unknown:
        raise ModelError(f"model_runs has no column(s) {unknown}; columns: {', '.join(RUN_SCHEMA.names)}")
    missing = [k for k in _REQUIRED if not raw.get(k) and raw.get(k) != ""]
    if missing:
        raise ModelError(f"a model_runs row needs {', '.join(missing)}")
    row: dict[str, Any] = {name: None for name in RUN_SCHEMA.names}
    row.update(raw)
    if not isinstance(row["params"], str):
        row["params"] = json.dumps(row["params"] or {}, default=str, ensure_ascii=False)
    row["created_at"] = row["created_at"] or created_at
    row["run_id"] = row["run_id"] or new_run_id()
    for key in ("model_dir", "model_version", "dataset_version"):
        row[key] = None if row[key] is None else str(row[key])
    for key in METRICS + ("elapsed_s",):
        row[key] = None if row[key] is None else float(row[key])
    return row


def run_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts keyed by column names; ``params`` may be a dict) as a ``model_runs`` table."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return pa.Table.from_pylist([_row(r, now) for r in rows], schema=RUN_SCHEMA)


def append_runs(store: Any, rows: Iterable[Mapping[str, Any]] | pa.Table) -> pa.Table:
    """Append rows to the store's ``model_runs`` table (created on first use); returns what was written."""
    table = rows if isinstance(rows, pa.Table) else run_table(rows)
    if table.schema != RUN_SCHEMA:
        table = run_table(table.to_pylist())
    store.append(MODEL_RUNS, table)
    return table
