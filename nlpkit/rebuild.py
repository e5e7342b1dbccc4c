"""What is built from a dataset, and rebuilding it after the dataset changes.

`nlpkit data rebuild imdb` rebuilds the dataset, then what depends on it, found from the store
itself (every derived artifact records its source in its manifest):

- ``<dataset>_baseline``: the TF-IDF baseline, retrained with the parameters it was built with
  (a dataset whose builder declares ``baseline=True``, like imdb, gets one even before the first);
- ``tokens_<dataset>_<backend>``: token datasets, re-tokenized incrementally with the recorded
  tokenizer and columns (only new or changed documents are tokenized again);
- ``features_<dataset>``: the features build, redone with its recorded options and term spec
  (with the dictionaries' current sha256) when stale (:func:`nlpkit.features.stale.is_stale`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

from nlpkit.store.versions import Store, VersionInfo

__all__ = ["Dependant", "Rebuilt", "find_dependants", "rebuild_dependant", "rebuild_with_dependants"]


@dataclass(frozen=True, slots=True)
class Dependant:
    """One artifact built from a dataset, and how it was built."""

    kind: Literal["baseline", "tokens", "features"]
    name: str
    parameters: dict[str, Any]


def find_dependants(store: Store, dataset: str, *, default_baseline: bool = False) -> list[Dependant]:
    """Artifacts in ``store`` built from ``dataset`` (baseline first, then token datasets)."""
    out: list[Dependant] = []
    baseline = f"{dataset}_baseline"
    if baseline in store.datasets():
        out.append(Dependant("baseline", baseline, dict(store.latest(baseline).manifest.get("parameters", {}))))
    elif default_baseline:
        out.append(Dependant("baseline", baseline, {}))
    for name in store.datasets():
        if not name.startswith(f"tokens_{dataset}_"):
            continue
        params = store.latest(name).manifest.get("parameters", {})
        if params.get("dataset") == dataset and isinstance(params.get("tokenizer"), dict):
            out.append(Dependant("tokens", name, dict(params)))
    features = f"features_{dataset}"[:63]
    if features in store.datasets():
        out.append(Dependant("features", features, dict(store.latest(features).manifest.get("parameters", {}))))
    return out


def rebuild_dependant(store: Store, dataset: str, dep: Dependant, *,
                      progress: Callable[[str, int, int | None], None] | None = None) -> str:
    """Rebuild one dependant from the dataset's latest version; returns a one-line summary."""
    if dep.kind == "baseline":
        from nlpkit.models.baseline import BaselineConfig, train_baseline

        known = {f.name for f in fields(BaselineConfig)}
        params = {k: v for k, v in dep.parameters.items() if k in known}
        if "c_grid" in params:
            params["c_grid"] = tuple(params["c_grid"])
        result = train_baseline(store, dataset, BaselineConfig(**params), progress=progress)
        test = result.metrics.get("test", {})
        return f"{dep.name} {result.model.version}: test accuracy {test.get('accuracy', float('nan')):.4f} (C={result.c:g})"
    if dep.kind == "features":
        return _rebuild_features(store, dataset, dep)
    from nlpkit.tokenize.dataset import tokenize_dataset

    tok = dep.parameters["tokenizer"]
    columns = {k: dep.parameters[k] for k in ("text_column", "id_column") if k in dep.parameters}
    res = tokenize_dataset(store, dataset, tok["name"], user_dicts=tok.get("user_dicts", ()),
                           options=tok.get("options", {}), out_name=dep.name, **columns)
    return f"{dep.name} {res.version}: {res.tokenized:,} tokenized, {res.reused:,} reused, {res.dropped:,} dropped"


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What `nlpkit data rebuild NAME` did: the new version of the dataset and one line per dependant."""

    info: VersionInfo
    dependants: list[str]


def rebuild_with_dependants(store: Store, dataset: str, source: str, *, dependants: bool = True,
                            nltk_data: Path | None = None,
                            progress: Callable[[str, int, int | None], None] | None = None,
                            on_dependant: Callable[[Dependant], None] | None = None,
                            baseline: dict[str, Any] | None = None,
                            **options: Any) -> Rebuilt:
    """`nlpkit data rebuild DATASET` as one call: a new version from ``source``, then (``dependants``) what is built
    from it (its baseline, retrained; its token datasets, re-tokenized incrementally). The CLI and the flows
    both call this, so a scheduled rebuild does exactly what the command does. ``baseline`` overrides
    parameters of the baseline's retraining (e.g. ``{"c_grid": [4.0]}``)."""
    from nlpkit.datasets.registry import get_builder, rebuild

    info = rebuild(store, dataset, source, nltk_data=nltk_data, progress=progress, **options)
    done: list[str] = []
    if dependants:
        for dep in find_dependants(store, dataset, default_baseline=get_builder(dataset).baseline):
            if dep.kind == "baseline" and baseline:
                dep = Dependant(dep.kind, dep.name, {**dep.parameters, **baseline})
            if on_dependant is not None:
                on_dependant(dep)
            done.append(rebuild_dependant(store, dataset, dep, progress=progress))
    return Rebuilt(info, done)


def _rebuild_features(store: Store, dataset: str, dep: Dependant) -> str:
    from nlpkit.features.build import BuildOptions, build_features
    from nlpkit.features.stale import recorded_spec, stale_reasons

    reasons = stale_reasons(store, dataset)
    if not reasons:
        return f"{dep.name}: up to date"
    known = {f.name for f in fields(BuildOptions)} - {"spec"}
    opts = {k: v for k, v in dict(dep.parameters.get("options") or {}).items() if k in known}
    for key in ("k_values", "user_dicts"):
        if isinstance(opts.get(key), list):
            opts[key] = tuple(opts[key])
    spec = recorded_spec(dep.parameters)
    result = build_features(store, dataset, BuildOptions(**opts, spec=spec.refreshed() if spec else None))
    return f"{dep.name} {result.versions.get(dep.name, '')}: rebuilt ({'; '.join(reasons)}), " \
           f"{result.tokenized_now:,} tokenized now"
