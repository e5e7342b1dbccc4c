"""Kept for imports of the ``model_runs`` writer from here: it lives in :mod:`nlpkit.store.model_runs`.

It moved below ``nlpkit.features`` and ``nlpkit.models`` (both write ``model_runs`` rows) so that
features no longer import the models package, which imports features (issue #13: no cycles).
"""

from nlpkit.store.model_runs import METRICS, MODEL_RUNS, RUN_SCHEMA, append_runs, new_run_id, run_table

__all__ = ["MODEL_RUNS", "RUN_SCHEMA", "METRICS", "new_run_id", "run_table", "append_runs"]
