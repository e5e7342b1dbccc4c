"""What every command shares: settings from --flows / environment, the store, errors, progress."""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from nlpkit.errors import ConfigError, NlpkitError
from nlpkit.settings import Settings, load_settings
from nlpkit.store import Store

__all__ = ["console", "err_console", "get_settings", "get_store", "handle_errors", "parse_key_values", "progress_bar",
           "FlowsOption"]

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

FlowsOption = typer.Option(
    None, "--flows", envvar="NLPKIT_FLOWS", help="Settings file (default ./flows.yaml when it exists).",
)

_state: dict[str, Any] = {}


def set_flows_path(path: Path | None) -> None:
    _state["flows"] = path


def flows_path() -> Path | None:
    path = _state.get("flows")
    if path is not None:
        return Path(path)
    default = Path("flows.yaml")
    return default if default.is_file() else None


def get_settings() -> Settings:
    """Settings from the chosen flows.yaml plus this process's environment (loaded once)."""
    if "settings" not in _state:
        _state["settings"] = load_settings(flows_path(), os.environ)
    return _state["settings"]


def get_store() -> Store:
    return Store(get_settings().data_dir)


def handle_errors(func: F) -> F:
    """Print nlpkit's own errors as one clear message and exit 2 instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NlpkitError as e:
            err_console.print(f"[bold red]error:[/] {e}", highlight=False, markup=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def parse_key_values(items: list[str], flag: str, example: str) -> dict[str, Any]:
    """``["k=v", ...]`` -> dict; values are read as JSON where they parse (true, 3, 0.5, [1]), else kept as text."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} {item!r}: expected KEY=VALUE, e.g. {flag} {example}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def progress_bar(transient: bool = False) -> Progress:
    """The progress bar every long step shows (count, rate, elapsed, remaining)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
        disable=os.environ.get("NLPKIT_NO_PROGRESS") == "1",
    )


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not verbose:
        for noisy in ("httpx", "httpcore", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
