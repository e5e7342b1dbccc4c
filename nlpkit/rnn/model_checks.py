"""Checks a model directory's files pass before anything is allocated for them.

A ``config.json`` is data a user can edit or a stranger can send: ``hidden_size: 20000`` used
to allocate gigabytes before the weights were compared, ``10**12`` ended in a traceback. Here
every value of the ``model`` section is checked against its dataclass field's type and a sane
range, the model is first built on PyTorch's ``meta`` device (shapes only, no memory) and its
tensor shapes compared with the safetensors file's own header, and weights holding NaN or inf
are refused. Every failure is a :class:`~nlpkit.errors.CheckpointError` naming the file.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from nlpkit.errors import CheckpointError, ModelError

if TYPE_CHECKING:
    import torch

__all__ = ["INT_LIMITS", "build_checked", "check_finite", "check_model_section", "check_run_section", "shape_problems"]

#: Largest value each integer hyper-parameter may take in a saved config (anything else: at most 1,000,000).
INT_LIMITS: dict[str, int] = {
    "vocab_size": 5_000_000, "embed_dim": 65_536, "hidden_size": 65_536, "num_layers": 64, "num_classes": 100_000,
}
_DEFAULT_INT_LIMIT = 1_000_000

#: Integer settings outside the ``model`` section that loading and prediction use, with their upper bounds.
_RUN_INTS: dict[str, dict[str, int]] = {
    "classifier": {"max_len": 1_000_000},
    "lm": {"seq_len": 1_000_000},
    "seq2seq": {"max_digits": 18},
}


def _int_ok(name: str, value: Any, origin: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise CheckpointError(f"{origin}: {name} must be a whole number, got {value!r}")
    limit = INT_LIMITS.get(name, _DEFAULT_INT_LIMIT)
    if not 0 <= value <= limit:
        raise CheckpointError(f"{origin}: {name} = {value} is outside the sane range 0..{limit:,}; "
                              "the file is damaged or was not written by nlpkit")


def check_model_section(section: Any, config_cls: Any, origin: str) -> dict[str, Any]:
    """``section`` (config.json's ``model``) checked field by field against ``config_cls``'s annotations."""
    if not isinstance(section, dict):
        raise CheckpointError(f"{origin}: 'model' must be a JSON object of hyper-parameters, got {section!r:.60}")
    types = {f.name: str(f.type) for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(section) - set(types))
    if unknown:
        raise CheckpointError(f"{origin}: unknown model setting(s) {', '.join(unknown)}; "
                              f"expected only {', '.join(types)}")
    for name, value in section.items():
        kind = types[name]
        if kind == "int":
            _int_ok(name, value, origin)
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise CheckpointError(f"{origin}: {name} must be a finite number, got {value!r}")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise CheckpointError(f"{origin}: {name} must be true or false, got {value!r}")
        elif not isinstance(value, str):  # Literal[...] / str options; the dataclass checks the allowed values
            raise CheckpointError(f"{origin}: {name} must be a string, got {value!r}")
    return section


def check_run_section(config: Mapping[str, Any], kind: str, origin: str) -> None:
    """The settings outside ``model`` that loading uses (``max_len``, ``labels``, ``seq_len``, ...)."""
    for name, limit in _RUN_INTS.get(kind, {}).items():
        if name not in config:
            raise CheckpointError(f"{origin}: missing {name!r}; the model directory is incomplete")
        _int_ok(name, config[name], origin)
        if config[name] > limit:
            raise CheckpointError(f"{origin}: {name} = {config[name]} is over {limit:,}")
    if kind == "classifier":
        labels = config.get("labels")
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
            raise CheckpointError(f"{origin}: 'labels' must be a non-empty list of label names, got {labels!r:.60}")
        if not isinstance(config.get("tokenizer"), str):
            raise CheckpointError(f"{origin}: 'tokenizer' must be a tokenizer name, got {config.get('tokenizer')!r}")


def shape_problems(expected: Mapping[str, tuple[int, ...]], found: Mapping[str, tuple[int, ...]]) -> list[str]:
    """Every missing, unexpected or mis-shaped tensor, in words."""
    problems = [f"missing tensor {k!r}" for k in expected if k not in found]
    problems += [f"unexpected tensor {k!r}" for k in found if k not in expected]
    problems += [f"tensor {k!r} has shape {found[k]}, the model needs {v}"
                 for k, v in expected.items() if k in found and found[k] != v]
    return problems


@contextmanager
def _no_random_init() -> Iterator[None]:
    """Skip ``torch.nn.init``'s normal-distribution initialisers while building on ``meta``.

    Meta tensors hold no values, and ``normal_`` on them runs a Python reference that imports
    ``torch._dynamo`` (3-4 s per process); shapes are all the check needs.
    """
    from torch.nn import init

    names = ("normal_", "trunc_normal_", "xavier_normal_", "kaiming_normal_", "orthogonal_")
    saved = {n: getattr(init, n) for n in names}
    try:
        for n in names:
            setattr(init, n, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for n, fn in saved.items():
            setattr(init, n, fn)


def build_checked(model_cls: Callable[[Any], torch.nn.Module], cfg: Any,
                  shapes: Mapping[str, tuple[int, ...]], origin: str) -> torch.nn.Module:
    """``model_cls(cfg)``, built for real only after a ``meta``-device copy matched ``shapes``."""
    import torch

    try:
        with torch.device("meta"), _no_random_init():
            skeleton = model_cls(cfg)
    except (ModelError, ValueError, RuntimeError, OverflowError, TypeError) as e:
        raise CheckpointError(f"{origin}: config.json describes a model that cannot be built ({e})") from e
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    problems = shape_problems(expected, shapes)
    if problems:
        shown = "; ".join(problems[:6]) + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
        raise CheckpointError(f"{origin}: weights do not match the model in config.json: {shown}")
    return model_cls(cfg)


def check_finite(weights: Mapping[str, torch.Tensor], origin: str) -> None:
    """Refuse weights holding NaN or infinity (a model would print 'nan' probabilities)."""
    import torch

    bad = [name for name, t in weights.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise CheckpointError(f"{origin}: tensor(s) {', '.join(map(repr, bad[:5]))} hold NaN or infinite values; "
                              "the model is damaged (re-train it or restore a good copy)")
