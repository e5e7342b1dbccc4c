"""What every command shares: settings from --flows / environment, the store, errors, progress."""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import tempfile
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from nlpkit.errors import ConfigError, DatasetNotFoundError, NlpkitError
from nlpkit.settings import Settings, load_settings
from nlpkit.store import Store
from nlpkit.suggest import close_matches, did_you_mean

__all__ = ["console", "err_console", "get_settings", "get_store", "handle_all", "handle_errors", "parse_key_values",
           "progress_bar", "report_exception", "FlowsOption"]

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


#: AWS_* environment variables the CLI passes to a store on object storage (they override flows.yaml).
AWS_ENVIRONMENT = {
    "AWS_ENDPOINT_URL": "endpoint_url",
    "AWS_ACCESS_KEY_ID": "access_key_id",
    "AWS_SECRET_ACCESS_KEY": "secret_access_key",
    "AWS_SESSION_TOKEN": "session_token",
    "AWS_DEFAULT_REGION": "region",
    "AWS_REGION": "region",
    "AWS_ALLOW_HTTP": "allow_http",
}


def storage_options(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """flows.yaml's ``store.storage_options`` with the usual AWS_* variables of ``environ`` on top."""
    options: dict[str, str] = dict(settings.store.storage_options)
    for var, key in AWS_ENVIRONMENT.items():
        if environ.get(var):
            options[key] = environ[var]
    return options


def get_store() -> Store:
    settings = get_settings()
    if isinstance(settings.data_dir, Path):
        return Store(settings.data_dir)
    return Store(settings.data_dir, storage_options=storage_options(settings, os.environ))


def set_debug(debug: bool) -> None:
    _state["debug"] = debug


def _one_line(text: str) -> str:
    return " ".join(str(text).split()) or "(no message)"


def _print_error(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)


def _expected_os_error(e: OSError) -> str:
    """One line for a file-system failure a user can fix (missing file, permission, full disk ...)."""
    name = f" {e.filename}" if getattr(e, "filename", None) else ""
    fixes = {
        errno.ENOENT: "no such file or directory; check the path",
        errno.EACCES: "permission denied; check the file's permissions or use another path",
        errno.EPERM: "operation not permitted; check the file's permissions or use another path",
        errno.EROFS: "read-only file system; point NLPKIT_DATA_DIR (or --out) at a writable directory",
        errno.ENOSPC: "no space left on device; free some space or use another NLPKIT_DATA_DIR",
        errno.EISDIR: "is a directory; give a file path",
        errno.ENOTDIR: "a part of the path is not a directory; check the path",
        errno.EDQUOT: "disk quota exceeded; free some space or use another NLPKIT_DATA_DIR",
    }
    fix = fixes.get(e.errno or -1, f"{e.strerror or e}")
    return f"{type(e).__name__}{name}: {fix}"


def _registry_hint(e: NlpkitError) -> str | None:
    """A missing dataset that is not close to any stored one but to a registered one: say which, and how to build it."""
    name = getattr(e, "dataset", None)
    if not isinstance(e, DatasetNotFoundError) or not name or "did you mean" in str(e):
        return None
    from nlpkit.datasets.registry import BUILDERS

    matches = close_matches(name, BUILDERS)
    if not matches:
        return None
    return (f"dataset {name!r} is not in the store; {did_you_mean(name, BUILDERS)} "
            f"Build it with `nlpkit data rebuild {matches[0]}`.")


def report_exception(e: BaseException) -> int:
    """Print ``e`` the way every command does and return the exit code (2 expected, 1 unexpected)."""
    if isinstance(e, NlpkitError):
        _print_error(_one_line(_registry_hint(e) or str(e)))
        return 2
    if isinstance(e, OSError) and e.errno in _EXPECTED_ERRNOS:
        _print_error(_expected_os_error(e))
        return 2
    if _state.get("debug"):
        err_console.print("".join(traceback.format_exception(e)), highlight=False, markup=False)
        return 1
    fd, name = tempfile.mkstemp(prefix="nlpkit-traceback-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("".join(traceback.format_exception(e)))
    _print_error(f"unexpected {type(e).__name__}: {_one_line(str(e))[:300]} (full traceback in {name}; "
                 "rerun with --debug to print it)")
    return 1


_EXPECTED_ERRNOS = frozenset({errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EISDIR,
                              errno.ENOTDIR, errno.EDQUOT})


def handle_errors(func: F) -> F:
    """Every command's errors: one ``error: ...`` line; exit 2 for expected ones, 1 (traceback in a file) otherwise."""
    if getattr(func, "__nlpkit_handled__", False):
        return func

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.ClickException, KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:
            raise typer.Exit(report_exception(e)) from None

    wrapper.__nlpkit_handled__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def handle_all(app: typer.Typer) -> None:
    """Wrap every command of ``app`` and of its sub-apps in :func:`handle_errors` (idempotent)."""
    for cmd in app.registered_commands:
        if cmd.callback is not None:
            cmd.callback = handle_errors(cmd.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            handle_all(group.typer_instance)


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
