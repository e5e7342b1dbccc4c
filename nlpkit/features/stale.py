"""Is a features build out of date? Its manifest records the term spec (with the user dictionaries'
sha256) and the tokens dataset version it read; either changing makes it stale. So does a version
that does not hold the whole unit (every feature table of :data:`~nlpkit.store.views.FEATURE_TABLES`
pinned by its one commit), such as one written before feature tables were per dataset.

``nlpkit data rebuild DATASET`` rebuilds stale feature outputs as dependants (see
:mod:`nlpkit.rebuild`).
"""

from __future__ import annotations

from typing import Any

from nlpkit.errors import DatasetError
from nlpkit.store.views import FEATURE_TABLES
from nlpkit.tokenize.spec import TermSpec

__all__ = ["stale_reasons", "is_stale", "recorded_spec"]


def recorded_spec(params: dict[str, Any]) -> TermSpec | None:
    """The spec a features build recorded (None for builds older than term specs)."""
    spec = params.get("spec")
    return TermSpec.from_dict(spec) if isinstance(spec, dict) else None


def stale_reasons(store: Any, dataset: str) -> list[str]:
    """Why the latest ``features_<dataset>`` is out of date ([] when current)."""
    from nlpkit.features.build import index_name

    try:
        info = store.latest(index_name(dataset))
    except DatasetError:
        return [f"no features build for {dataset!r}"]
    params = info.manifest.get("parameters", {})
    missing = [t for t in FEATURE_TABLES if t not in info.tables]
    if missing:
        return [f"{index_name(dataset)} {info.version} does not pin {', '.join(missing)} (built before feature "
                "tables were kept per dataset)"]
    spec = recorded_spec(params)
    if spec is None:
        return ["built before term specs were recorded"]
    reasons = [f"user dictionary {p} changed" for p in spec.stale_dicts()]
    tokens = params.get("tokens_dataset")
    if tokens and tokens in store.datasets() and store.latest(tokens).version != params.get("tokens_version"):
        reasons.append(f"{tokens} is at {store.latest(tokens).version}, features read {params.get('tokens_version')}")
    if dataset in store.datasets() and store.latest(dataset).version != params.get("dataset_version"):
        reasons.append(f"{dataset} is at {store.latest(dataset).version}, features read {params.get('dataset_version')}")
    return reasons


def is_stale(store: Any, dataset: str) -> bool:
    return bool(stale_reasons(store, dataset))
