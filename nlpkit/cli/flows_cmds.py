"""Operators' commands: `flows check`, `flows list`, `serve`, `runs`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from nlpkit.cli import app
from nlpkit.cli._common import console, err_console, flows_path, get_settings, get_store, handle_errors
from nlpkit.errors import ConfigError, DatasetNotFoundError
from nlpkit.flowspec import RUNS_TABLE, check_flow, dependency_order

flows_app = typer.Typer(help="Inspect and validate flows.yaml.", no_args_is_help=True)
app.add_typer(flows_app, name="flows")


def _require_flows_file() -> Path:
    path = flows_path()
    if path is None:
        raise ConfigError("no flows.yaml found here; pass --flows FILE or set NLPKIT_FLOWS")
    return path


@flows_app.command("check")
@handle_errors
def flows_check() -> None:
    """Validate flows.yaml: keys, cron, time zones, cycles, entrypoints, parameters and profiles."""
    path = _require_flows_file()
    settings = get_settings()  # key/type/cron/time-zone errors surface here, naming file and key
    dependency_order(settings.flows)  # cycles
    problems = [f"{path}: {p}" for spec in settings.flows for p in check_flow(spec, path.resolve().parent)]
    for profile in settings.profiles:  # a profile's overrides must fit the flows' signatures too
        problems += [f"{path}: profile {profile!r}: {p}" for spec in settings.with_profile(profile)
                     if spec.name in settings.profiles[profile] for p in check_flow(spec, path.resolve().parent)]
    if problems:
        raise ConfigError("\n".join(problems))
    console.print(f"{path}: {len(settings.flows)} flow(s) OK")


@flows_app.command("list")
@handle_errors
def flows_list() -> None:
    """Show the declared flows in dependency order with their schedules."""
    settings = get_settings()
    table = Table("flow", "entrypoint", "schedule", "depends on", "task runner", "parameters")
    for spec in dependency_order(settings.flows):
        sched = spec.schedule
        when = "" if sched is None else (f"cron {sched.cron} ({sched.timezone})" if sched.cron else f"every {sched.interval:g} s")
        table.add_row(spec.name, spec.entrypoint, when, ", ".join(spec.depends_on), str(spec.task_runner),
                      ", ".join(f"{k}={v}" for k, v in spec.parameters.items()))
    console.print(table)


@app.command()
@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="Address of the local Prefect server we start."),
    port: int = typer.Option(4200, help="Port of the local Prefect server (UI at http://HOST:PORT)."),
) -> None:
    """Serve every scheduled flow (uses PREFECT_API_URL, or starts a local Prefect server)."""
    path = _require_flows_file()
    from pipelines.serve import serve_flows

    serve_flows(path, host, port)
    err_console.print("stopped")


@app.command()
@handle_errors
def runs(
    limit: int = typer.Option(20, "--limit", "-n", help="How many recent runs to show."),
    flow: str | None = typer.Option(None, "--flow", help="Only runs of this flow."),
) -> None:
    """Recent flow runs (from the `runs` table that every run appends to)."""
    try:
        table = get_store().read_appended(RUNS_TABLE).to_pandas()
    except DatasetNotFoundError:
        console.print("no runs recorded yet (run `nlpkit flows run all` or `nlpkit flows serve`)")
        return
    if flow:
        table = table[table["flow"] == flow]
    table = table.sort_values("started_at", ascending=False).head(limit)
    out = Table("flow", "started", "seconds", "state", "rows", "trigger", "error")
    for r in table.itertuples():
        rows = getattr(r, "rows", None)
        out.add_row(r.flow, r.started_at, f"{r.seconds:.1f}", r.state,
                    "" if rows is None or rows != rows else f"{int(rows):,}",
                    getattr(r, "trigger", "") or "", (r.error or "")[:80])
    console.print(out)
