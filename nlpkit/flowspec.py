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
from nlpkit.settings import FlowSpec, Settings
from nlpkit.store import Store

__all__ = ["FlowResult", "RunCancelled", "dependency_order", "resolve_entrypoint", "run_flows", "RUNS_TABLE"]

log = logging.getLogger(__name__)

RUNS_TABLE = "runs"


class RunCancelled(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error of the flow
    """Raised (by the CLI's SIGTERM/SIGINT handler) to stop a run: the flow is recorded ``cancelled``.

    A BaseException so that no ``except Exception`` in a flow or task swallows it.
    """


@dataclass(frozen=True, slots=True)
class FlowResult:
    """What happened to one flow in a run (also a row of the ``runs`` table)."""

    flow: str
    state: Literal["completed", "skipped", "failed", "cancelled", "not_run"]
    started_at: str
    seconds: float
    error: str = ""
    result: str = ""
    rows: int | None = None
    trigger: str = "manual"
    value: Any = None  # the flow's own return value (not stored)


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
    settings: Settings | None = None,
) -> list[FlowResult]:
    """Run ``flows`` once in dependency order and record each in ``runs``.

    ``settings`` is handed to every flow that takes a ``settings`` parameter (resolved once, by
    the caller: no environment or working directory in between). A flow that returns
    ``{"skipped": reason}`` found no new input: it is recorded ``skipped`` and its dependants
    are not run (``skipped``, naming it). A failed flow marks its dependants ``not_run``.
    :class:`RunCancelled` (SIGTERM) records the running flow ``cancelled``, the rest ``not_run``,
    then propagates. ``trigger`` is ``manual`` for flows run directly and ``upstream: NAME`` for
    dependants run after NAME. ``prepare(spec, flow)`` may re-configure a flow (task runner, retries).
    """
    results: dict[str, FlowResult] = {}
    cancelled: RunCancelled | None = None
    for spec in dependency_order(flows):
        started = datetime.now(UTC).isoformat(timespec="seconds")
        ran = [d for d in spec.depends_on if d in results]
        trigger = f"upstream: {', '.join(ran)}" if ran else "manual"
        blocked = [d for d in ran if results[d].state not in ("completed", "skipped")]
        idle = [d for d in ran if results[d].state == "skipped"]
        if cancelled is not None:
            res = FlowResult(spec.name, "not_run", started, 0.0, "run cancelled", trigger=trigger)
        elif blocked:
            res = FlowResult(spec.name, "not_run", started, 0.0,
                             f"upstream flow(s) did not complete: {', '.join(blocked)}", trigger=trigger)
        elif idle and len(idle) == len(ran):
            res = FlowResult(spec.name, "skipped", started, 0.0,
                             f"skipped: no new input from {', '.join(idle)}", rows=0, trigger=trigger)
        else:
            res, cancelled = _run_one(spec, root, prepare, settings, started, trigger)
        results[spec.name] = res
        if store is not None:
            store.append(RUNS_TABLE, pa.Table.from_pylist([_row(res)]))
        if on_event:
            on_event(res)
    if cancelled is not None:
        raise cancelled
    return list(results.values())


def _run_one(spec: FlowSpec, root: Path, prepare: Callable[..., Any] | None, settings: Settings | None,
             started: str, trigger: str) -> tuple[FlowResult, RunCancelled | None]:
    t0 = time.perf_counter()
    try:
        fn = resolve_entrypoint(spec.entrypoint, root)
        check_parameters(spec, fn)
        params = dict(spec.parameters)
        if settings is not None and "settings" in inspect.signature(getattr(fn, "fn", fn)).parameters:
            params.setdefault("settings", settings)
        if prepare is not None:
            fn = prepare(spec, fn)
        value = fn(**params)
    except RunCancelled as e:
        return FlowResult(spec.name, "cancelled", started, time.perf_counter() - t0, f"cancelled: {e}",
                          trigger=trigger), e
    except Exception as e:  # a flow's failure is recorded and the run goes on
        log.debug("flow %s failed:\n%s", spec.name, traceback.format_exc())
        return FlowResult(spec.name, "failed", started, time.perf_counter() - t0, f"{type(e).__name__}: {e}",
                          trigger=trigger), None
    seconds = time.perf_counter() - t0
    skipped = value.get("skipped") if isinstance(value, dict) else None
    return FlowResult(spec.name, "skipped" if skipped else "completed", started, seconds,
                      f"skipped: {skipped}" if skipped else "", _short(value), rows_written(value), trigger,
                      value), None


def rows_written(value: Any) -> int | None:
    """Flows return a summary dict; its ``rows`` entry (if any) is what the run wrote."""
    if isinstance(value, dict) and isinstance(value.get("rows"), int):
        return int(value["rows"])
    return None


def _short(value: Any, limit: int = 500) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _row(res: FlowResult) -> dict[str, Any]:
    return {"flow": res.flow, "state": res.state, "started_at": res.started_at, "seconds": round(res.seconds, 3),
            "error": res.error, "result": res.result, "rows": res.rows, "trigger": res.trigger}
