"""The `nlpkit` console command: one entry point for everything a person runs.

Each area keeps its commands in its own module and registers them on ``app`` here.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # `similar` reports its start-up from here (imports included)

from pathlib import Path  # noqa: E402

import typer  # noqa: E402

from nlpkit.cli import _common  # noqa: E402

app = typer.Typer(
    name="nlpkit",
    help="Korean + English NLP pipeline: datasets, tokenization, news, features, models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    flows: Path | None = _common.FlowsOption,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    debug: bool = typer.Option(False, "--debug", help="Print the full traceback of an unexpected error."),
) -> None:
    _common.set_debug(debug)
    _common.set_flows_path(flows)
    _common.setup_logging(verbose)


# Each module adds its commands to `app` when imported.
from nlpkit.cli import flows_cmds, run_cmds, store_cmds  # noqa: E402,F401
from nlpkit.cli import news_cmds  # noqa: E402,F401
from nlpkit.cli import dataset_cmds  # noqa: E402,F401
from nlpkit.cli import train_cmds  # noqa: E402,F401
from nlpkit.cli import tokenize_cmds  # noqa: E402,F401
from nlpkit.cli import features_cmds  # noqa: E402,F401
from nlpkit.cli import analysis_cmds  # noqa: E402,F401
from nlpkit.cli import ui_cmds  # noqa: E402,F401
from nlpkit.cli import topics_cmds  # noqa: E402,F401


# The tree people see: grouped commands in pipeline order, the old names hidden behind a note.
from nlpkit.cli.command_map import regroup  # noqa: E402

regroup(app)

# Every command, whichever module registered it, prints errors the same way.
_common.handle_all(app)


def main() -> None:
    """The console entry point: errors outside any command (settings, imports) are one line too."""
    try:
        app()
    except Exception as e:  # commands are wrapped already; this catches what happens around them
        raise SystemExit(_common.report_exception(e)) from None


__all__ = ["STARTED", "app", "main"]
