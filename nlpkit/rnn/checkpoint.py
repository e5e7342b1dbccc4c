"""Model directories: safetensors weights + JSON config, vocabulary and metrics; nothing pickled.

A model directory holds::

    model.safetensors    weights (tied weights stored once, aliases in the header metadata)
    config.json          kind, hyper-parameters, format version, vocabulary digest
    vocab.json           the vocabulary (nlpkit.rnn.vocab.Vocab)
    metrics.json         final metrics and the per-evaluation history
    training_state.safetensors / training_state.json   optimizer moments and counters (for --resume)
    .nlpkit-model.json   marker: this directory was written by nlpkit (kind, format, version)

Directories are written to a temporary sibling and renamed into place, so a crash never
leaves a half-written model. An existing directory is replaced only when it is an nlpkit
model directory holding nothing but nlpkit's own files; a user's folder is never touched.
Loading checks the format version, the vocabulary digest, every config value's range and
every tensor's name and shape (against the safetensors header, on the ``meta`` device,
before the model is allocated), refuses NaN/inf weights, and reports what does not match.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import nlpkit
from nlpkit.errors import CheckpointError, ModelError
from nlpkit.rnn.model_checks import (MAX_CONFIG_BYTES, check_finite, check_model_section, check_run_section,
                                     check_shapes, read_json_checked, safetensors_shapes, shape_problems,
                                     skeleton_shapes)
from nlpkit.rnn.vocab import Vocab

if TYPE_CHECKING:
    import torch

__all__ = ["FORMAT", "MARKER", "MODEL_KINDS", "ModelDir", "check_out_dir", "is_model_dir", "load_model_dir",
           "load_saved_model", "load_weights", "save_model_dir"]

FORMAT = "nlpkit.rnn/1"
MODEL_KINDS = ("classifier", "lm", "seq2seq")
REQUIRED = ("model.safetensors", "config.json", "vocab.json")
#: Written into every model directory nlpkit creates; only such directories are ever replaced.
MARKER = ".nlpkit-model.json"
#: Every file nlpkit writes into a model directory; anything else in it belongs to someone else.
OWN_FILES = frozenset({*REQUIRED, MARKER, "metrics.json", "training_state.safetensors", "training_state.json",
                       "loss_curves.png"})


@dataclass
class ModelDir:
    """What :func:`load_model_dir` read (weights not yet put into a model)."""

    path: Path
    config: dict[str, Any]
    vocab: Vocab
    metrics: dict[str, Any]
    weights: dict[str, torch.Tensor]

    @property
    def kind(self) -> str:
        return str(self.config["kind"])


def is_model_dir(path: str | Path) -> bool:
    """True when ``path`` is a directory with an nlpkit RNN ``config.json`` (cheap, no torch)."""
    cfg = Path(path) / "config.json"
    if not cfg.is_file():
        return False
    try:
        return read_json_checked(cfg, max_bytes=MAX_CONFIG_BYTES).get("format") == FORMAT
    except (CheckpointError, AttributeError):
        return False


def _flatten_state(model: torch.nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """State dict with shared (tied) tensors stored once; returns (tensors, alias -> stored name)."""
    tensors: dict[str, torch.Tensor] = {}
    aliases: dict[str, str] = {}
    by_ptr: dict[tuple[int, tuple[int, ...]], str] = {}
    for name, t in model.state_dict().items():
        key = (t.data_ptr(), tuple(t.shape))
        if t.numel() and key in by_ptr:
            aliases[name] = by_ptr[key]
            continue
        by_ptr[key] = name
        tensors[name] = t.detach().to("cpu").contiguous()
    return tensors, aliases


def _optimizer_tensors(optimizer: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = optimizer.state_dict()
    tensors = {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            tensors[f"state.{idx}.{key}"] = value.detach().to("cpu").contiguous()
    return tensors, {"param_groups": sd["param_groups"]}


def _foreign_reason(out: Path) -> str | None:
    """Why ``out`` (an existing, non-empty directory) may not be replaced; None when it may."""
    marker = out / MARKER
    if not marker.is_file() and not is_model_dir(out):
        return f"{out} is a non-empty directory that nlpkit did not write (no {MARKER})"
    foreign = sorted(p.name for p in out.iterdir() if p.name not in OWN_FILES)
    if foreign:
        return (f"{out} is an nlpkit model directory but also holds files nlpkit did not write "
                f"({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''})")
    return None


def check_out_dir(out: str | Path, *, overwrite: bool = False, resume: bool = False) -> None:
    """Refuse, before any training, an ``--out`` whose contents would be lost.

    A missing or empty directory is fine. An nlpkit model directory is replaced only with
    ``overwrite`` (or continued with ``resume``); any other non-empty directory, or a file,
    is refused: nothing of the user's is ever moved or deleted.
    """
    out = Path(out)
    if not out.exists():
        return
    if not out.is_dir():
        raise CheckpointError(f"--out {out} is a file, not a directory; choose a new directory for the model")
    if not any(out.iterdir()):
        return
    reason = _foreign_reason(out)
    if reason:
        raise CheckpointError(f"{reason}; refusing to write a model there so nothing in it is lost. "
                              "Choose a new or empty --out directory")
    if not (overwrite or resume):
        raise CheckpointError(f"--out {out} already holds an nlpkit model; pass --overwrite to replace it, "
                              "--resume to continue training it, or choose another --out")


def save_model_dir(
    out: str | Path,
    model: torch.nn.Module,
    *,
    config: dict[str, Any],
    vocab: Vocab,
    metrics: dict[str, Any],
    optimizer: Any = None,
    counters: dict[str, Any] | None = None,
    extra_files: dict[str, Path] | None = None,
) -> Path:
    """Write a model directory atomically (temporary sibling, then rename); returns its path.

    ``out`` may be missing, empty, or an nlpkit model directory (see :func:`check_out_dir`);
    anything else is a CheckpointError and is left exactly as it was.
    """
    from safetensors.torch import save_file

    if config.get("kind") not in MODEL_KINDS:
        raise CheckpointError(f"config kind must be one of {', '.join(MODEL_KINDS)}, got {config.get('kind')!r}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        tensors, aliases = _flatten_state(model)
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": FORMAT, "aliases": json.dumps(aliases)})
        full = {"format": FORMAT, "nlpkit_version": nlpkit.__version__, "vocab_sha256": vocab.sha256,
                "vocab_size": len(vocab), **config}
        (tmp / "config.json").write_text(json.dumps(full, indent=2, ensure_ascii=False), encoding="utf-8")
        vocab.save(tmp / "vocab.json")
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False, default=float),
                                          encoding="utf-8")
        if optimizer is not None:
            opt_tensors, opt_meta = _optimizer_tensors(optimizer)
            save_file(opt_tensors, str(tmp / "training_state.safetensors"), metadata={"format": FORMAT})
            state = {"optimizer": opt_meta, "counters": counters or {}}
            (tmp / "training_state.json").write_text(json.dumps(state, default=float), encoding="utf-8")
        for name, src in (extra_files or {}).items():
            if name not in OWN_FILES:
                raise CheckpointError(f"extra file {name!r} is not one nlpkit writes into a model directory")
            if Path(src).is_file():
                shutil.copyfile(src, tmp / name)
        marker = {"kind": config["kind"], "format": FORMAT, "nlpkit_version": nlpkit.__version__}
        (tmp / MARKER).write_text(json.dumps(marker), encoding="utf-8")
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        if out.exists():
            if not out.is_dir() or (reason := _foreign_reason(out)):
                raise CheckpointError(f"{reason or f'{out} is a file'}; refusing to replace it so nothing in it is "
                                      "lost. Choose a new or empty directory for the model")
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _read_json(path: Path) -> dict[str, Any]:
    data = read_json_checked(path, max_bytes=MAX_CONFIG_BYTES)  # size and depth first: no RecursionError
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} must hold a JSON object, got {type(data).__name__}")
    return data


def _read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    from safetensors import SafetensorError, safe_open

    try:
        tensors = {}
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            for key in f.keys():  # noqa: SIM118 - safe_open has no __iter__
                tensors[key] = f.get_tensor(key)
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError) as e:
        raise CheckpointError(f"{path} is not a readable safetensors file ({e}); re-train or re-copy the model") from e
    return tensors, meta


def _aliases(meta: dict[str, str], weights: dict[str, Any], origin: str) -> dict[str, str]:
    try:
        aliases = json.loads(meta.get("aliases", "{}"))
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{origin}: damaged alias metadata ({e})") from e
    if not isinstance(aliases, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()):
        raise CheckpointError(f"{origin}: alias metadata must map tensor names to tensor names, "
                              f"got {meta.get('aliases')!r:.60}")
    for alias, target in aliases.items():
        if target not in weights:
            raise CheckpointError(f"{origin}: tied tensor {alias!r} points at missing {target!r}")
    return aliases


def load_model_dir(path: str | Path, *, kind: str | None = None,
                   check: Callable[[dict[str, Any], Vocab, dict[str, tuple[int, ...]]], None] | None = None) -> ModelDir:
    """Read and check a model directory (format, kind, vocabulary digest); never unpickles.

    Every size is checked before anything is allocated: the JSON files' size and depth, then the
    safetensors header's shapes and byte spans (:func:`~nlpkit.rnn.model_checks.safetensors_shapes`),
    then ``check(config, vocab, shapes)`` (the model's own expectations) -- only then are tensors read.
    """
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"model directory {path} does not exist (train one with `nlpkit train ...`)")
    missing = [f for f in REQUIRED if not (path / f).is_file()]
    if missing:
        raise CheckpointError(f"model directory {path} lacks {', '.join(missing)}; it is not a complete nlpkit model")
    config = _read_json(path / "config.json")
    if config.get("format") != FORMAT:
        raise CheckpointError(f"{path}/config.json has format {config.get('format')!r}; this nlpkit reads {FORMAT!r}")
    if config.get("kind") not in MODEL_KINDS:
        raise CheckpointError(f"{path}/config.json: kind {config.get('kind')!r} is not one of {', '.join(MODEL_KINDS)}")
    if kind is not None and config["kind"] != kind:
        raise CheckpointError(f"{path} holds a {config['kind']} model, but a {kind} model was expected")
    try:
        vocab = Vocab.load(path / "vocab.json")
    except CheckpointError:
        raise
    except Exception as e:
        raise CheckpointError(f"{path}/vocab.json: {e}") from e
    if vocab.sha256 != config.get("vocab_sha256"):
        raise CheckpointError(
            f"{path}/vocab.json does not belong to this model (digest {vocab.sha256[:12]} != "
            f"{str(config.get('vocab_sha256'))[:12]} in config.json); restore the original vocab.json"
        )
    shapes = safetensors_shapes(path / "model.safetensors")
    if check is not None:
        with_aliases = dict(shapes)
        for alias, target in _aliases(_safetensors_metadata(path / "model.safetensors"), shapes,
                                      f"{path}/model.safetensors").items():
            with_aliases[alias] = shapes[target]
        check(config, vocab, with_aliases)
    weights, meta = _read_safetensors(path / "model.safetensors")
    for alias, target in _aliases(meta, weights, f"{path}/model.safetensors").items():
        weights[alias] = weights[target]
    check_finite(weights, f"{path}/model.safetensors")
    metrics = _read_json(path / "metrics.json") if (path / "metrics.json").is_file() else {}
    return ModelDir(path=path, config=config, vocab=vocab, metrics=metrics, weights=weights)


def _safetensors_metadata(path: Path) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file (tied-tensor aliases), read from its header only."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError) as e:
        raise CheckpointError(f"{path} is not a readable safetensors file ({e}); re-train or re-copy the model") from e


def load_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor], origin: str) -> None:
    """Copy ``weights`` into ``model`` after checking names and shapes; lists every mismatch."""
    problems = shape_problems({k: tuple(v.shape) for k, v in model.state_dict().items()},
                              {k: tuple(v.shape) for k, v in weights.items()})
    if problems:
        shown = "; ".join(problems[:6]) + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
        raise CheckpointError(f"{origin}: weights do not match the model in config.json: {shown}")
    model.load_state_dict(weights)


def load_saved_model(path: str | Path, *, kind: str, config_cls: Callable[..., Any],
                     model_cls: Callable[[Any], torch.nn.Module]) -> tuple[torch.nn.Module, ModelDir]:
    """The checked model directory of ``kind`` and its model: ``model_cls(config_cls(**config["model"]))``
    with the saved weights (on the CPU; callers move it)."""
    origin = f"{path}/config.json"
    built: list[Any] = []

    def check(config: dict[str, Any], vocab: Vocab, shapes: dict[str, tuple[int, ...]]) -> None:
        section = check_model_section(config.get("model"), config_cls, origin)
        check_run_section(config, kind, origin)
        try:
            cfg = config_cls(**section)
        except (TypeError, KeyError, ValueError, OverflowError, ModelError) as e:
            raise CheckpointError(f"{origin}: invalid model section ({e})") from e
        rows = section.get("vocab_size")
        if isinstance(rows, int) and rows != len(vocab):
            raise CheckpointError(f"{path}/vocab.json holds {len(vocab):,} tokens but the model's embedding has "
                                  f"{rows:,} rows (config.json vocab_size); restore the model's own vocab.json")
        check_shapes(skeleton_shapes(model_cls, cfg, str(path)), shapes, str(path))
        built.append(cfg)

    saved = load_model_dir(path, kind=kind, check=check)
    model = model_cls(built[0])
    load_weights(model, saved.weights, str(path))
    return model, saved


def load_training_state(path: str | Path, optimizer: Any) -> dict[str, Any]:
    """Restore optimizer moments saved next to a model; returns the saved loop counters."""
    path = Path(path)
    if not (path / "training_state.json").is_file() or not (path / "training_state.safetensors").is_file():
        raise CheckpointError(f"{path} has no training state to resume from (it was saved without the optimizer)")
    state = _read_json(path / "training_state.json")
    tensors, _ = _read_safetensors(path / "training_state.safetensors")
    check_finite(tensors, f"{path}/training_state.safetensors")
    per_param: dict[int, dict[str, Any]] = {}
    try:
        for key, value in tensors.items():
            _, idx, name = key.split(".", 2)
            per_param.setdefault(int(idx), {})[name] = value
        optimizer.load_state_dict({"state": per_param, "param_groups": state["optimizer"]["param_groups"]})
    except (KeyError, ValueError, RuntimeError, TypeError) as e:
        raise CheckpointError(f"{path}: optimizer state does not match the model ({e})") from e
    return dict(state.get("counters", {}))
