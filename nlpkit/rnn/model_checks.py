"""Checks a model directory's files pass before anything is allocated for them.

A ``config.json`` is data a user can edit or a stranger can send: ``hidden_size: 20000`` used
to allocate gigabytes before the weights were compared, ``10**12`` ended in a traceback. Here
every value of the ``model`` section is checked against its dataclass field's type and a sane
range, the model is first built on PyTorch's ``meta`` device (shapes only, no memory) and its
tensor shapes compared with the safetensors file's own header (read and size-checked without
reading any tensor: :func:`safetensors_shapes`), and weights holding NaN or inf are refused.
JSON files are size- and depth-checked before they are parsed (:func:`read_json_checked`). Every failure is a :class:`~nlpkit.errors.CheckpointError` naming the file.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import struct
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlpkit.errors import CheckpointError, ModelError

if TYPE_CHECKING:
    import torch

__all__ = ["INT_LIMITS", "MAX_WEIGHT_BYTES", "build_checked", "check_finite", "check_model_section", "check_run_section",
           "check_shapes", "json_depth", "read_json_checked", "safetensors_shapes", "shape_problems", "skeleton_shapes"]

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
    check_shapes(skeleton_shapes(model_cls, cfg, origin), shapes, origin)
    return model_cls(cfg)


def check_finite(weights: Mapping[str, torch.Tensor], origin: str) -> None:
    """Refuse weights holding NaN or infinity (a model would print 'nan' probabilities)."""
    import torch

    bad = [name for name, t in weights.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise CheckpointError(f"{origin}: tensor(s) {', '.join(map(repr, bad[:5]))} hold NaN or infinite values; "
                              "the model is damaged (re-train it or restore a good copy)")


# -- files read before anything is built ------------------------------------------------------
#: Largest config.json read (a real one is ~2 KB) and deepest nesting it may have.
MAX_CONFIG_BYTES = 1 << 20
MAX_JSON_DEPTH = 32
#: Largest vocab.json read (5M tokens of ~20 bytes).
MAX_VOCAB_BYTES = 256 << 20
#: Most bytes of weights a model directory may hold (the project's models: under 100 MB).
MAX_WEIGHT_BYTES = 2 << 30
#: Largest safetensors header (the format's own limit).
MAX_HEADER_BYTES = 100 << 20
#: Bytes per element of each safetensors dtype nlpkit may read.
DTYPE_BYTES: dict[str, int] = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                               "U8": 1, "BOOL": 1}
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth(raw: bytes) -> int:
    """Deepest nesting of arrays and objects in JSON text ``raw`` (strings skipped), in one pass.

    >>> json_depth(b'{"a": [1, {"b": "[[["}]}')
    3
    """
    depth = deepest = 0
    for m in _JSON_TOKENS.finditer(raw):
        c = m.group()
        if c in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif c in (b"]", b"}"):
            depth -= 1
    return deepest


def read_json_checked(path: Path, *, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON of ``path`` after its size and nesting depth were checked (one-line CheckpointError naming it)."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise CheckpointError(f"{path} is {size:,} bytes, over the {max_bytes:,} this file may have; "
                                  "the model directory is damaged or not nlpkit's")
        raw = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"{path} cannot be read ({e.strerror})") from e
    depth = json_depth(raw)
    if depth > max_depth:
        raise CheckpointError(f"{path} nests {depth:,} levels deep, over the {max_depth} allowed; "
                              "the file is damaged or not nlpkit's")
    try:
        return json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        detail = " ".join(str(e).split())[:160]
        raise CheckpointError(f"{path} is not valid JSON ({detail}); the model directory is damaged") from e


def safetensors_shapes(path: Path, *, max_bytes: int = MAX_WEIGHT_BYTES) -> dict[str, tuple[int, ...]]:
    """Tensor shapes from a safetensors file's header alone, after checking every size in it.

    Each tensor's dtype must be known, its shape whole numbers, its byte span exactly
    ``prod(shape) * dtype size`` inside the file, and all tensors together at most ``max_bytes``:
    a 32 MB sparse file declaring a 3.4 GB tensor is refused here, before anything is read or
    allocated.
    """
    origin = str(path)

    def damaged(detail: str) -> CheckpointError:
        return CheckpointError(f"{origin} is not a readable safetensors file ({detail}); re-train or re-copy the model")

    try:
        file_size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise damaged(f"{file_size} bytes, shorter than its own header length")
            n = struct.unpack("<Q", head)[0]
            if n > min(MAX_HEADER_BYTES, file_size - 8):
                raise damaged(f"header length {n:,} is impossible for a {file_size:,}-byte file")
            header_raw = f.read(n)
    except OSError as e:
        raise CheckpointError(f"{origin} cannot be read ({e.strerror})") from e
    if json_depth(header_raw) > 3:
        raise damaged("the header nests too deep")
    try:
        header = json.loads(header_raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise damaged("the header is not valid JSON") from e
    if not isinstance(header, dict):
        raise damaged("the header is not a JSON object")
    data_size = file_size - 8 - n
    shapes: dict[str, tuple[int, ...]] = {}
    total = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        where = f"tensor {name[:60]!r}"
        if not isinstance(info, dict) or not isinstance(info.get("shape"), list) or info.get("dtype") not in DTYPE_BYTES:
            raise damaged(f"{where} needs a dtype of {', '.join(DTYPE_BYTES)} and a shape")
        shape = info["shape"]
        if len(shape) > 8 or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**40 for d in shape):
            raise damaged(f"{where}: shape {shape!r:.80} is not a list of at most 8 sizes")
        nbytes = math.prod(shape) * DTYPE_BYTES[info["dtype"]]
        offsets = info.get("data_offsets")
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(isinstance(o, int) for o in offsets)
                or not 0 <= offsets[0] <= offsets[1] <= data_size or offsets[1] - offsets[0] != nbytes):
            raise damaged(f"{where}: data offsets {offsets!r:.60} do not hold its {nbytes:,} bytes inside the file")
        total += nbytes
        if total > max_bytes:
            raise CheckpointError(f"{origin}: {where}: the weights declare over {max_bytes:,} bytes (shape {tuple(shape)}, "
                                  f"{info['dtype']}); nlpkit models are far smaller, refusing to load it")
        shapes[name] = tuple(shape)
    return shapes


def skeleton_shapes(model_cls: Callable[[Any], torch.nn.Module], cfg: Any, origin: str) -> dict[str, tuple[int, ...]]:
    """Tensor shapes of ``model_cls(cfg)``, built on the ``meta`` device (no memory)."""
    import torch

    try:
        with torch.device("meta"), _no_random_init():
            skeleton = model_cls(cfg)
    except (ModelError, ValueError, RuntimeError, OverflowError, TypeError) as e:
        raise CheckpointError(f"{origin}: config.json describes a model that cannot be built ({e})") from e
    return {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}


def check_shapes(expected: Mapping[str, tuple[int, ...]], found: Mapping[str, tuple[int, ...]], origin: str) -> None:
    """CheckpointError listing every difference between the model's shapes and the file's."""
    problems = shape_problems(expected, found)
    if problems:
        shown = "; ".join(problems[:6]) + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
        raise CheckpointError(f"{origin}: weights do not match the model in config.json: {shown}")
