"""What every flow needs at run time: settings, store, task runners, run-history hooks, deployments.

Flows declare ``@flow(name=..., **RUN_HOOKS)`` so that scheduled runs (fired by ``nlpkit serve``)
append a row to the ``runs`` table just like ``nlpkit run`` does.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from nlpkit.flowspec import RUNS_TABLE, resolve_entrypoint, rows_written
from nlpkit.settings import FlowSpec, Settings, load_settings
from nlpkit.store import Store

log = logging.getLogger(__name__)


def settings() -> Settings:
    """Settings from NLPKIT_FLOWS (or ./flows.yaml when present) and this process's environment."""
    path = os.environ.get("NLPKIT_FLOWS") or ("flows.yaml" if Path("flows.yaml").is_file() else None)
    return load_settings(path, os.environ)


def store(data_dir: str | None = None) -> Store:
    """The store a flow writes to: ``data_dir`` when given, else the settings' data directory."""
    return Store(Path(data_dir) if data_dir else settings().data_dir)


# -- run history -------------------------------------------------------------------------
def _record_run(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook: append a scheduled run's outcome to ``runs`` (``nlpkit run`` records its own)."""
    if getattr(flow_run, "deployment_id", None) is None:
        return
    try:
        started = flow_run.start_time or flow_run.expected_start_time
        ended = flow_run.end_time or datetime.now(UTC)
        seconds = (ended - started).total_seconds() if started else 0.0
        error = ""
        result = ""
        rows = None
        if state.is_completed():
            value = state.result(raise_on_failure=False)
            result = str(value)[:500] if value is not None else ""
            rows = rows_written(value)
        else:
            error = (state.message or state.name or "")[:2000]
        from prefect.runtime import deployment

        row = {
            "flow": deployment.name or flow.name,  # the flows.yaml name, as `nlpkit run` records it
            "state": "completed" if state.is_completed() else "failed",
            "started_at": started.isoformat(timespec="seconds") if started else "",
            "seconds": round(seconds, 3),
            "error": error,
            "result": result,
            "rows": rows,
            "trigger": "schedule",
            "flow_run_id": str(flow_run.id),
        }
        store().append(RUNS_TABLE, pa.Table.from_pylist([row]))
        if state.is_completed() and deployment.name:
            _start_dependants(deployment.name)
    except Exception:  # history must never fail the run itself
        log.exception("could not record run of %s", getattr(flow, "name", flow))


def _start_dependants(upstream: str) -> None:
    """Start the served deployments of every flow that ``depends_on`` ``upstream`` (served mode only).

    Prefect's event-driven deployment triggers did not fire on the local SQLite server here
    (measured with Prefect 3.9), so the completed upstream run starts its dependants itself.
    """
    from prefect.deployments import run_deployment

    cfg = settings()
    flows_file = os.environ.get("NLPKIT_FLOWS")
    root = Path(flows_file).resolve().parent if flows_file else Path.cwd()
    for spec in cfg.flows:
        if upstream in spec.depends_on:
            fn = resolve_entrypoint(spec.entrypoint, root)
            run_deployment(f"{fn.name}/{spec.name}", timeout=0, tags=["nlpkit", f"after:{upstream}"])
            log.info("started %s after %s completed", spec.name, upstream)


#: Hooks every nlpkit flow carries: ``@flow(name="imdb", **RUN_HOOKS)``.
RUN_HOOKS: dict[str, list[Callable[..., None]]] = {
    "on_completion": [_record_run],
    "on_failure": [_record_run],
    "on_crashed": [_record_run],
}


# -- task runners --------------------------------------------------------------------------
def task_runner(spec: FlowSpec) -> Any | None:
    """The Prefect task runner flows.yaml asks for (None keeps the flow's own default)."""
    choice = spec.task_runner
    if choice == "default":
        return None
    if choice == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=max(2, os.cpu_count() or 2))
    from prefect_dask import DaskTaskRunner

    if choice == "dask":
        workers = os.cpu_count() or 2
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})
    address = choice.get("dask", {}).get("address") if isinstance(choice, dict) else None
    if not address:
        raise ValueError(f"flow {spec.name!r}: task_runner {choice!r}: expected 'default', 'threads', 'dask' "
                         "or {dask: {address: tcp://host:8786}}")
    return DaskTaskRunner(address=address)


def prepare(spec: FlowSpec, fn: Any) -> Any:
    """Apply flows.yaml's task runner and retries to a flow object before it runs."""
    options: dict[str, Any] = {}
    runner = task_runner(spec)
    if runner is not None:
        options["task_runner"] = runner
    if spec.retries:
        options["retries"] = spec.retries
    if options and hasattr(fn, "with_options"):
        return fn.with_options(**options)
    return fn


# -- deployments for `nlpkit serve` -------------------------------------------------------------
def deployments(cfg: Settings, root: Path) -> list[Any]:
    """One Prefect deployment per flow in flows.yaml.

    A flow with a schedule runs on it; a flow with ``depends_on`` is also started by each
    completed served run of an upstream flow (see ``_start_dependants``), so "features after
    news" holds in served mode too.
    """
    from prefect.schedules import Cron, Interval

    out = []
    for spec in cfg.flows:
        fn = resolve_entrypoint(spec.entrypoint, root)
        schedules = []
        if spec.schedule is not None and spec.schedule.cron:
            schedules.append(Cron(spec.schedule.cron, timezone=spec.schedule.timezone))
        elif spec.schedule is not None:
            schedules.append(Interval(spec.schedule.interval, timezone=spec.schedule.timezone))
        out.append(
            fn.to_deployment(
                name=spec.name,
                schedules=schedules,
                parameters=spec.parameters,
                tags=["nlpkit", *spec.tags],
                description=f"{spec.entrypoint} from flows.yaml",
            )
        )
    return out
