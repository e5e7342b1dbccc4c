"""Flows declared in flows.yaml: resolving entrypoints, dependency order, running them once.

This module calls whatever callables the entrypoints name (Prefect flows in ``pipelines/``)
without importing Prefect itself, so the library stays free of orchestration.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from nlpkit.errors import ConfigError
from nlpkit.settings import FlowSpec
from nlpkit.store import Store

__all__ = ["FlowResult", "dependency_order", "resolve_entrypoint", "run_flows", "RUNS_TABLE"]

log = logging.getLogger(__name__)

RUNS_TABLE = "runs"


@dataclass(frozen=True, slots=True)
class FlowResult:
    """What happened to one flow in a run (also a row of the ``runs`` table)."""

    flow: str
    state: Literal["completed", "failed", "not_run"]
    started_at: str
    seconds: float
    error: str = ""
    result: str = ""
    rows: int | None = None


def resolve_entrypoint(entrypoint: str, root: Path) -> Callable[..., Any]:
    """Import 'path/file.py:function' (path relative to ``root``) and return the function."""
    rel, _, func = entrypoint.partition(":")
    path = (root / rel).resolve()
    if not path.is_file():
        raise ConfigError(f"entrypoint {entrypoint!r}: file {path} not found")
    module_name = ".".join(Path(rel).with_suffix("").parts)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module = sys.modules.get(module_name)
    if module is None or getattr(module, "__file__", None) != str(path):
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ConfigError(f"entrypoint {entrypoint!r}: cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    try:
        return getattr(module, func)
    except AttributeError:
        names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
        raise ConfigError(f"entrypoint {entrypoint!r}: {rel} has no {func!r}; it defines {', '.join(names)}") from None


def check_parameters(spec: FlowSpec, fn: Callable[..., Any]) -> None:
    """Raise ConfigError if the declared parameters do not fit the flow's signature."""
    target = getattr(fn, "fn", fn)  # a Prefect flow keeps the plain function in .fn
    sig = inspect.signature(target)
    try:
        sig.bind_partial(**spec.parameters)
    except TypeError as e:
        allowed = ", ".join(sig.parameters) or "(none)"
        raise ConfigError(f"flow {spec.name!r}: parameters {sorted(spec.parameters)} do not fit {spec.entrypoint} ({e}); allowed: {allowed}") from e


def check_flow(spec: FlowSpec, root: Path) -> list[str]:
    """Every problem with one flows.yaml entry, each naming the flow and the key (empty: fine)."""
    problems: list[str] = []
    try:
        fn = resolve_entrypoint(spec.entrypoint, root)
    except ConfigError as e:
        return [f"flow {spec.name!r}, key 'entrypoint': {e}"]
    except Exception as e:  # the module itself fails to import
        return [f"flow {spec.name!r}, key 'entrypoint': importing {spec.entrypoint} failed: {type(e).__name__}: {e}"]
    if not hasattr(fn, "to_deployment"):
        problems.append(f"flow {spec.name!r}, key 'entrypoint': {spec.entrypoint} is not a Prefect flow (decorate it with @flow)")
    try:
        check_parameters(spec, fn)
    except ConfigError as e:
        problems.append(f"flow {spec.name!r}, key 'parameters': {e}")
    return problems


def dependency_order(flows: Sequence[FlowSpec]) -> list[FlowSpec]:
    """Flows sorted so each comes after what it depends on; a cycle is a ConfigError naming it."""
    by_name = {f.name: f for f in flows}
    order: list[FlowSpec] = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*path[path.index(name):], name])
            raise ConfigError(f"flows.yaml: dependency cycle: {cycle}")
        state[name] = 1
        for dep in by_name[name].depends_on:
            visit(dep, [*path, name])
        state[name] = 2
        order.append(by_name[name])

    for f in flows:
        visit(f.name, [])
    return order


def run_flows(
    flows: Sequence[FlowSpec],
    root: Path,
    store: Store | None = None,
    on_event: Callable[[FlowResult], None] | None = None,
    prepare: Callable[[FlowSpec, Callable[..., Any]], Callable[..., Any]] | None = None,
) -> list[FlowResult]:
    """Run ``flows`` once in dependency order; a failed flow marks its dependants not run.

    ``prepare(spec, flow)`` may return a re-configured flow (task runner, retries) before it runs.
    """
    results: dict[str, FlowResult] = {}
    for spec in dependency_order(flows):
        started = datetime.now(UTC).isoformat(timespec="seconds")
        blocked = [d for d in spec.depends_on if d in results and results[d].state != "completed"]
        if blocked:
            res = FlowResult(spec.name, "not_run", started, 0.0, f"upstream flow(s) did not complete: {', '.join(blocked)}")
        else:
            t0 = time.perf_counter()
            try:
                fn = resolve_entrypoint(spec.entrypoint, root)
                check_parameters(spec, fn)
                if prepare is not None:
                    fn = prepare(spec, fn)
                value = fn(**spec.parameters)
                res = FlowResult(spec.name, "completed", started, time.perf_counter() - t0,
                                 result=_short(value), rows=rows_written(value))
            except Exception as e:  # a flow's failure is recorded and the run goes on
                log.debug("flow %s failed:\n%s", spec.name, traceback.format_exc())
                res = FlowResult(spec.name, "failed", started, time.perf_counter() - t0, f"{type(e).__name__}: {e}")
        results[spec.name] = res
        if store is not None:
            store.append(RUNS_TABLE, pa.Table.from_pylist([{**_row(res), "trigger": "run"}]))
        if on_event:
            on_event(res)
    return list(results.values())


def rows_written(value: Any) -> int | None:
    """Flows return a summary dict; its ``rows`` entry (if any) is what the run wrote."""
    if isinstance(value, dict) and isinstance(value.get("rows"), int):
        return int(value["rows"])
    return None


def _short(value: Any, limit: int = 500) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _row(res: FlowResult) -> dict[str, Any]:
    return {"flow": res.flow, "state": res.state, "started_at": res.started_at,
            "seconds": round(res.seconds, 3), "error": res.error, "result": res.result, "rows": res.rows}
