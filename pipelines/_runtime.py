"""What every flow needs at run time: settings, store, task runners, run-history hooks, deployments.

Flows declare ``@flow(name=..., **RUN_HOOKS)`` so that scheduled runs (fired by ``nlpkit flows serve``)
append a row to the ``runs`` table just like ``nlpkit flows run`` does.
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


#: What a flow's ``settings`` parameter accepts: the resolved object (``nlpkit flows run`` passes it), the path of a
#: settings file (served deployments pass flows.yaml's path), or None (defaults).
SettingsArg = Settings | str | None


def resolve(settings: SettingsArg = None, data_dir: str | None = None) -> Settings:
    """The settings of one flow run, resolved once at its start and then passed to its tasks explicitly.

    A ``Settings`` object is used as given (nothing is read from the environment or the working
    directory); a path is loaded with this process's environment overrides (``NLPKIT_*_SOURCE`` ...),
    once; ``data_dir`` (a flow parameter) overrides the store's directory.
    """
    if isinstance(settings, Settings):
        cfg = settings
    else:
        cfg = load_settings(settings, os.environ)
    if data_dir:
        cfg = cfg.model_copy(update={"data_dir": Path(data_dir).expanduser().resolve()})
    return cfg


def store(data_dir: str | Path) -> Store:
    """The store in ``data_dir``: the directory a flow resolved once with :func:`resolve` and passed to its task."""
    return Store(Path(data_dir))


# -- run history -------------------------------------------------------------------------
def run_state(state: Any) -> str:
    """The ``runs`` state of a finished Prefect state: completed, skipped, cancelled or failed.

    A run stopped by SIGTERM/SIGINT ends Cancelled, or Crashed with a termination message: both
    are ``cancelled``, which an operator did on purpose, not ``failed``.
    """
    if state.is_completed():
        value = state.result(raise_on_failure=False)
        return "skipped" if isinstance(value, dict) and value.get("skipped") else "completed"
    message = f"{state.name} {state.message or ''}".lower()
    if state.is_cancelled() or (state.is_crashed() and any(w in message for w in ("terminat", "signal", "interrupt",
                                                                                  "sigterm", "cancel"))):
        return "cancelled"
    return "failed"


def run_trigger(tags: list[str] | None, auto_scheduled: bool | None) -> str:
    """What started a served run: ``upstream: NAME`` (tag ``after:NAME``), ``schedule`` or ``manual``."""
    for tag in tags or []:
        if tag.startswith("after:"):
            return f"upstream: {tag[len('after:'):]}"
    return "schedule" if auto_scheduled else "manual"


def _flows_name(flow: Any, tags: list[str] | None) -> str:
    """The flows.yaml name of a served run (its deployment carries the tag ``flow:NAME``)."""
    for tag in tags or []:
        if tag.startswith("flow:"):
            return tag[len("flow:"):]
    from prefect.runtime import deployment

    return deployment.name or flow.name


def _record_run(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook: append a served run's outcome to ``runs`` (``nlpkit flows run`` records its own)."""
    if getattr(flow_run, "deployment_id", None) is None:
        return
    try:
        started = flow_run.start_time or flow_run.expected_start_time
        ended = flow_run.end_time or datetime.now(UTC)
        seconds = (ended - started).total_seconds() if started else 0.0
        outcome = run_state(state)
        value = state.result(raise_on_failure=False) if state.is_completed() else None
        tags = list(flow_run.tags or [])
        name = _flows_name(flow, tags)
        error = "" if state.is_completed() else (state.message or state.name or "")[:2000]
        if outcome == "skipped":
            error = f"skipped: {value['skipped']}"
        row = {
            "flow": name,
            "state": outcome,
            "started_at": started.isoformat(timespec="seconds") if started else "",
            "seconds": round(seconds, 3),
            "error": error,
            "result": str(value)[:500] if value is not None else "",
            "rows": rows_written(value),
            "trigger": run_trigger(tags, getattr(flow_run, "auto_scheduled", None)),
            "flow_run_id": str(flow_run.id),
        }
        params = dict(flow_run.parameters or {})
        cfg = resolve(params.get("settings"), params.get("data_dir"))
        Store(cfg.data_dir).append(RUNS_TABLE, pa.Table.from_pylist([row]))
        if outcome == "completed":  # a skipped run (no new input) starts nothing downstream
            _start_dependants(name, cfg)
    except Exception:  # history must never fail the run itself
        log.exception("could not record run of %s", getattr(flow, "name", flow))


def _start_dependants(upstream: str, cfg: Settings) -> None:
    """Start the served deployments of every flow that ``depends_on`` ``upstream`` (served mode only).

    Prefect's event-driven deployment triggers did not fire on the local SQLite server here
    (measured with Prefect 3.9), so the completed upstream run starts its dependants itself.
    """
    from prefect.deployments import run_deployment

    root = cfg.base_dir or Path.cwd()
    for spec in cfg.flows:
        if upstream in spec.depends_on:
            fn = resolve_entrypoint(spec.entrypoint, root)
            run_deployment(f"{fn.name}/{spec.name}", timeout=0, tags=["nlpkit", f"after:{upstream}"])
            log.info("started %s after %s completed", spec.name, upstream)


def publish(flow: str, summary: dict[str, Any]) -> dict[str, Any]:
    """Publish a short markdown artifact of what the run did (shown in the Prefect UI); returns ``summary``.

    One line per entry of the flow's summary: what was fetched, stored, skipped, failed, built.
    Never fails the run (outside a flow run there is nothing to attach it to).
    """
    try:
        from prefect.artifacts import create_markdown_artifact

        lines = [f"### {flow}", ""]
        if summary.get("skipped"):
            lines.append(f"**skipped**: {summary['skipped']}")
        for key, value in summary.items():
            if key != "skipped":
                lines.append(f"- **{key}**: {_md(value)}")
        key = "".join(c if c.isalnum() else "-" for c in flow.lower()).strip("-") or "flow"
        create_markdown_artifact(markdown="\n".join(lines), key=f"nlpkit-{key}", description=f"{flow}: what this run did")
    except Exception:
        log.debug("no artifact for %s", flow, exc_info=True)
    return summary


def _md(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return "; ".join(f"{k} {_md(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(_md(v) for v in value) or "none"
    return str(value).replace("\n", " ")[:300]


#: Hooks every nlpkit flow carries: ``@flow(name="imdb", **RUN_HOOKS)``.
RUN_HOOKS: dict[str, list[Callable[..., None]]] = {
    "on_completion": [_record_run],
    "on_failure": [_record_run],
    "on_crashed": [_record_run],
    "on_cancellation": [_record_run],
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


# -- deployments for `nlpkit flows serve` -------------------------------------------------------------
def deployments(cfg: Settings, root: Path, flows_file: Path | None = None) -> list[Any]:
    """One Prefect deployment per flow in flows.yaml.

    A flow with a schedule runs on it; a flow with ``depends_on`` is also started by each
    completed served run of an upstream flow (see ``_start_dependants``), so "features after
    news" holds in served mode too. Each deployment passes ``flows_file`` as the flow's
    ``settings`` parameter (resolved once per run) and carries the tag ``flow:NAME``, so the
    run history names it as flows.yaml does.
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
                parameters=_with_settings(fn, spec.parameters, flows_file),
                tags=["nlpkit", f"flow:{spec.name}", *spec.tags],
                description=f"{spec.entrypoint} from flows.yaml",
            )
        )
    return out


def _with_settings(fn: Any, parameters: dict[str, Any], flows_file: Path | None) -> dict[str, Any]:
    """``parameters`` plus ``settings=flows_file`` when the flow takes a ``settings`` parameter."""
    import inspect

    target = getattr(fn, "fn", fn)
    if flows_file is not None and "settings" in inspect.signature(target).parameters:
        return {**parameters, "settings": str(flows_file)}
    return dict(parameters)
