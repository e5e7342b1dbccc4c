"""The command tree people see: grouped sub-commands in pipeline order, old names kept for a release.

Each area module registers its commands where it always did (most on the root app); :func:`regroup`
then re-registers the same functions under their group (``nlpkit rebuild`` -> ``nlpkit data rebuild``)
and hides the old name, which still works and prints one deprecation note on stderr first. Nothing
is moved: a command's body stays in its area module, so edits there merge untouched.

Command map (``nlpkit --help`` lists the groups in this order)::

    data      list | history | import | rebuild | vacuum | migrate
    query     read-only SQL over the store
    news      scrape | articles | reextract          topics  apply | predict | cv
    tokens    text | dataset
    features  build | similar | report | classify | eval-korsts | analyse | related | stories | outlets
    train     classifier | lm | seq2seq              models  baseline | predict | evaluate | generate |
                                                             plot-temperature
    ui        the web app                            flows   list | validate | run | serve | runs
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
import typer
from typer.core import TyperGroup, TyperOption

from nlpkit import __version__

__all__ = ["DEPRECATED", "GROUPS", "ORDER", "PANELS", "regroup", "removal_version"]

#: New groups created here (the others, features/flows/train/topics, are made by their modules).
GROUPS: dict[str, str] = {
    "data": "Datasets in the store: list, history, import, rebuild, vacuum, migrate.",
    "news": "News articles: scrape, list, re-extract.",
    "tokens": "Tokenize a text, a file or a stored dataset with any backend.",
    "models": "Baseline models and saved RNN models: train the baseline, predict, evaluate, generate.",
}

#: Old command (as typed after `nlpkit`) -> its new place. Every old name keeps working for one release.
DEPRECATED: dict[str, str] = {
    "datasets": "data list",
    "history": "data history",
    "import": "data import",
    "rebuild": "data rebuild",
    "vacuum": "data vacuum",
    "store migrate": "data migrate",
    "scrape": "news scrape",
    "articles": "news articles",
    "reextract": "news reextract",
    "tokenize": "tokens text",
    "tokenize-dataset": "tokens dataset",
    "similar": "features similar",
    "report": "features report",
    "classify": "features classify",
    "eval korsts": "features eval-korsts",
    "baseline": "models baseline",
    "predict": "models predict",
    "evaluate": "models evaluate",
    "generate": "models generate",
    "plot-temperature": "models plot-temperature",
    "run": "flows run",
    "serve": "flows serve",
    "runs": "flows runs",
    "flows check": "flows validate",
}

#: Top-level entries in pipeline order, with the help panel each belongs to.
PANELS: dict[str, str] = {
    "data": "Data", "query": "Data",
    "news": "News", "topics": "News",
    "tokens": "Text and features", "features": "Text and features",
    "train": "Models", "models": "Models",
    "ui": "Explore and operate", "flows": "Explore and operate",
}
ORDER: tuple[str, ...] = tuple(PANELS)


def removal_version(version: str = __version__) -> str:
    """The release that drops the old names: the next minor one (0.1.0 -> 0.2)."""
    major, minor, *_ = (int(p) for p in version.split(".")[:2])
    return f"{major}.{minor + 1}"


class PipelineOrderGroup(TyperGroup):
    """The root group: lists commands in :data:`ORDER` (pipeline order), others after them as registered."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = list(self.commands)
        rank = {name: i for i, name in enumerate(ORDER)}
        return sorted(names, key=lambda n: (rank.get(n, len(ORDER)), names.index(n)))


def _flag_type_hidden(display: Callable[..., str | None]) -> Callable[..., str | None]:
    @functools.wraps(display)
    def display_type_rich(self: TyperOption, ctx: click.Context) -> str | None:
        return None if self.is_flag and not self.count else display(self, ctx)

    display_type_rich.__nlpkit_patched__ = True  # type: ignore[attr-defined]
    return display_type_rich


def hide_flag_metavars() -> None:
    """Help shows no ``<bool>`` next to plain flags (``--report/--no-report`` takes no value).

    typer 0.2x prints the Python type of every option in its rich help, flags included; a flag's
    type says nothing a user can type, so it is left out (value options keep ``<int>``, ``<path>``).
    """
    if not getattr(TyperOption.display_type_rich, "__nlpkit_patched__", False):
        TyperOption.display_type_rich = _flag_type_hidden(TyperOption.display_type_rich)  # type: ignore[method-assign]


def _deprecated(callback: Callable[..., Any], old: str, new: str) -> Callable[..., Any]:
    """``callback`` behind one stderr line saying which command replaces ``old`` (same result, same exit code)."""
    note = (f"note: 'nlpkit {old}' is deprecated; use 'nlpkit {new}' "
            f"({old} will be removed in {removal_version()})")

    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        typer.echo(note, err=True)
        return callback(*args, **kwargs)

    return wrapper


def _command_name(info: Any) -> str:
    return info.name or info.callback.__name__.lower().replace("_", "-")


def _typer(app: typer.Typer, name: str) -> typer.Typer:
    """The sub-app registered on ``app`` as ``name``."""
    for group in app.registered_groups:
        if group.name == name and group.typer_instance is not None:
            return group.typer_instance
    raise LookupError(f"no command group {name!r} on the nlpkit app")


#: Old groups hidden as a whole (their commands stay listed in `nlpkit store --help`).
_OLD_GROUPS = ("store", "eval")


def _move(source: typer.Typer, name: str, old: str, target: typer.Typer, new_name: str, new: str) -> None:
    """Register ``source``'s command ``name`` on ``target`` as ``new_name``; the old one prints a note first."""
    for info in source.registered_commands:
        if info.callback is not None and _command_name(info) == name:
            target.command(new_name)(info.callback)
            info.name, info.hidden = name, old.split()[0] not in _OLD_GROUPS
            info.callback = _deprecated(info.callback, old, new)
            return
    raise LookupError(f"nlpkit {old}: no such command to regroup")


def regroup(app: typer.Typer) -> None:
    """Re-register the root app's commands under their groups, in pipeline order, old names hidden."""
    hide_flag_metavars()
    app.info.cls = PipelineOrderGroup
    groups = {name: typer.Typer(name=name, help=text, no_args_is_help=True) for name, text in GROUPS.items()}
    for name, sub in groups.items():
        app.add_typer(sub, name=name)
    for old, new in DEPRECATED.items():
        old_parts, (new_group, new_name) = old.split(), new.split()
        source = app if len(old_parts) == 1 else _typer(app, old_parts[0])
        target = groups.get(new_group) or _typer(app, new_group)
        _move(source, old_parts[-1], old, target, new_name, new)
    for group in app.registered_groups:
        group.hidden = group.hidden or group.name in _OLD_GROUPS
        if group.name in PANELS:
            group.rich_help_panel = PANELS[group.name]
    for info in app.registered_commands:
        if info.callback is not None and _command_name(info) in PANELS:
            info.rich_help_panel = PANELS[_command_name(info)]
