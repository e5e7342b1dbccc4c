"""The one place a dataset's label ids get their names.

A dataset's label id -> name mapping is stored with the dataset: in its version manifest
(``parameters.label_names``, id -> name, as ``nlpkit data import --label-names`` or a builder writes it,
or ``parameters.labels``, name -> id, as the hate-speech builder writes it), else declared once by the
dataset registry (:data:`nlpkit.datasets.registry.BUILDERS`, for versions built before names were stored).
Every page, command, table and report asks :func:`label_names`; models carry the names they were
trained with (taken from here at training time).

>>> name_of({"1": "경제"}, 1.0)
'경제'
>>> name_of({"1": "경제"}, "9")
'9'
>>> parse_label_names("정치, 경제 ,사회")
{'0': '정치', '1': '경제', '2': '사회'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nlpkit.errors import ConfigError, NlpkitError

__all__ = ["int_label_names", "label_key", "label_names", "name_of", "parse_label_names"]


def label_key(value: Any) -> str:
    """A label value as the text key names are stored under (``1``, ``1.0`` and ``"1"`` -> ``"1"``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def name_of(names: Mapping[str, str], value: Any) -> str:
    """The name of label ``value`` in ``names`` (from :func:`label_names`), else the value itself as text."""
    key = label_key(value)
    return names.get(key, key)


def parse_label_names(text: str, option: str = "--label-names") -> dict[str, str]:
    """``"a,b,c"`` -> ``{"0": "a", "1": "b", "2": "c"}`` (label ids are positions); blank names are refused."""
    names = [n.strip() for n in str(text).split(",")]
    if not names or any(not n for n in names):
        raise ConfigError(f"{option} {text!r}: give one name per label id, comma-separated, in id order "
                          f"(e.g. {option} negative,positive)")
    return {str(i): n for i, n in enumerate(names)}


def _from_manifest(params: Mapping[str, Any]) -> dict[str, str]:
    names = params.get("label_names")
    if isinstance(names, Mapping) and names:
        return {label_key(k): str(v) for k, v in names.items()}
    labels = params.get("labels")  # name -> id
    if isinstance(labels, Mapping) and labels and all(isinstance(v, int) for v in labels.values()):
        return {str(v): str(k) for k, v in labels.items()}
    return {}


def label_names(store: Any, dataset: str, version: str | None = None) -> dict[str, str]:
    """Label id (as text, ``"0"``) -> name for ``dataset`` (its ``version``, default the latest); ``{}`` when none.

    The names stored in the version's manifest win; otherwise the registry's declaration of the dataset.
    A dataset missing from the store (a model whose corpus was removed) still gets the registry's names.
    """
    params: Mapping[str, Any] = {}
    if store is not None:
        try:
            info = store.version(dataset, version) if version else store.latest(dataset)
            params = info.manifest.get("parameters") or {}
        except (NlpkitError, OSError, AttributeError):
            params = {}
    names = _from_manifest(params)
    if names:
        return names
    from nlpkit.datasets.registry import BUILDERS

    builder = BUILDERS.get(dataset)
    return {str(k): v for k, v in builder.label_names.items()} if builder else {}


def int_label_names(store: Any, dataset: str, version: str | None = None) -> dict[int, str]:
    """:func:`label_names` keyed by integer id (what the RNN data loader and topic classifiers take)."""
    return {int(k): v for k, v in label_names(store, dataset, version).items() if k.lstrip("-").isdigit()}
