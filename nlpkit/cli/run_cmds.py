"""`nlpkit flows run`: run one declared flow, or all of them in dependency order, once; then say what was built."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import typer
from nlpkit.cli import app
from nlpkit.cli._common import console, flows_path, get_settings, get_store, handle_errors, parse_key_values
from nlpkit.errors import ConfigError
from nlpkit.flowspec import FlowResult, RunCancelled, run_flows

_COLOURS = {"completed": "green", "skipped": "cyan", "failed": "red", "cancelled": "magenta", "not_run": "yellow"}


@app.command()
@handle_errors
def run(
    flow: str = typer.Argument(..., help="Flow name from flows.yaml, or 'all' for every flow in dependency order."),
    param: list[str] = typer.Option([], "--param", "-p", help="Override a parameter: key=value (JSON values allowed)."),
    profile: str | None = typer.Option(None, "--profile", help="Apply a parameter profile of flows.yaml "
                                       "(e.g. 'quick': small training budgets for a first run)."),
) -> None:
    """Run flows declared in flows.yaml once, now, in Prefect's local mode.

    Each flow gets the settings resolved here (flows.yaml + environment) as its ``settings``
    parameter; SIGTERM/Ctrl-C records the running flow as ``cancelled``.
    """
    settings = get_settings()
    path = flows_path()
    if path is None:
        raise ConfigError("no flows.yaml found here; pass --flows FILE or set NLPKIT_FLOWS")
    declared = settings.with_profile(profile)
    if flow == "all":
        if param:
            raise ConfigError("--param applies to one flow; run `nlpkit flows run NAME --param ...`")
        specs = declared
    else:
        spec = next((s for s in declared if s.name == flow), None) or settings.flow(flow)
        overrides = parse_key_values(param, "--param", "source=/data/aclImdb_v1.tar.gz")
        specs = [spec.model_copy(update={"parameters": {**spec.parameters, **overrides}, "depends_on": []})]

    def show(res: FlowResult) -> None:
        note = res.error or (f"{res.rows:,} rows" if res.rows is not None else "")
        console.print(f"[{_COLOURS[res.state]}]{res.state:9}[/] {res.flow} ({res.seconds:.1f} s) {note}",
                      highlight=False)

    if os.environ.get("PREFECT_HOME"):  # Prefect's ephemeral server cannot create a missing parent
        Path(os.environ["PREFECT_HOME"]).expanduser().resolve().mkdir(parents=True, exist_ok=True)  # (times out)
    from pipelines._runtime import prepare  # Prefect lives in pipelines/, imported only to run flows

    def cancel(signum: int, frame: Any) -> None:
        raise RunCancelled(f"signal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, cancel)
    try:
        results = run_flows(specs, path.resolve().parent, get_store(), on_event=show, prepare=prepare,
                            settings=settings)
    except RunCancelled as e:
        console.print(f"[magenta]cancelled[/] ({e}); recorded in `nlpkit flows runs`")
        raise typer.Exit(143) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    from nlpkit.cli.run_summary import flow_line, print_built

    if flow == "all":
        print_built(get_store(), results, profile)  # one line per flow, then what was built and what to try next
    else:
        for r in results:
            console.print(flow_line(r), highlight=False, markup=False, soft_wrap=True)
    if any(r.state not in ("completed", "skipped") for r in results):
        raise typer.Exit(1)
