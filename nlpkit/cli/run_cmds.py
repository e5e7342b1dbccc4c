"""`nlpkit run`: run one declared flow, or all of them in dependency order, once."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table

from nlpkit.cli import app
from nlpkit.cli._common import console, flows_path, get_settings, get_store, handle_errors, parse_key_values
from nlpkit.errors import ConfigError
from nlpkit.flowspec import FlowResult, run_flows


@app.command()
@handle_errors
def run(
    flow: str = typer.Argument(..., help="Flow name from flows.yaml, or 'all' for every flow in dependency order."),
    param: list[str] = typer.Option([], "--param", "-p", help="Override a parameter: key=value (JSON values allowed)."),
) -> None:
    """Run flows declared in flows.yaml once, now, in Prefect's local mode."""
    settings = get_settings()
    path = flows_path()
    if path is None:
        raise ConfigError("no flows.yaml found here; pass --flows FILE or set NLPKIT_FLOWS")
    if flow == "all":
        if param:
            raise ConfigError("--param applies to one flow; run `nlpkit run NAME --param ...`")
        specs = list(settings.flows)
    else:
        spec = settings.flow(flow)
        overrides = parse_key_values(param, "--param", "source=/data/aclImdb_v1.tar.gz")
        specs = [spec.model_copy(update={"parameters": {**spec.parameters, **overrides}, "depends_on": []})]

    def show(res: FlowResult) -> None:
        colour = {"completed": "green", "failed": "red", "not_run": "yellow"}[res.state]
        console.print(f"[{colour}]{res.state:9}[/] {res.flow} ({res.seconds:.1f} s) {res.error}", highlight=False)

    if os.environ.get("PREFECT_HOME"):  # Prefect's ephemeral server cannot create a missing parent
        Path(os.environ["PREFECT_HOME"]).expanduser().resolve().mkdir(parents=True, exist_ok=True)  # (times out)
    os.environ["NLPKIT_FLOWS"] = str(path.resolve())  # flows load the same settings file
    os.environ["NLPKIT_DATA_DIR"] = str(settings.data_dir)  # already absolute: survives the chdir below
    os.chdir(path.resolve().parent)  # relative paths in flow parameters mean relative to flows.yaml
    from pipelines._runtime import prepare  # Prefect lives in pipelines/, imported only to run flows

    results = run_flows(specs, path.resolve().parent, get_store(), on_event=show, prepare=prepare)
    table = Table("flow", "state", "seconds", "error / result")
    for r in results:
        table.add_row(r.flow, r.state, f"{r.seconds:.1f}", r.error or r.result)
    console.print(table)
    if any(r.state != "completed" for r in results):
        raise typer.Exit(1)
