"""The grouped command tree: every old name still works (hidden, with one note), help reads in pipeline order."""

from __future__ import annotations

import re

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from nlpkit.cli import app
from nlpkit.cli.command_map import DEPRECATED, GROUPS, PANELS, removal_version
from nlpkit.datasets.importer import ImportOptions, import_corpus
from nlpkit.store import Store
from tests.cli_harness import cli_invoker
from tests.features.conftest import news_rows, write_news_slice  # noqa: F401 (news_rows is a fixture)

runner = CliRunner()
ROOT = typer.main.get_command(app)


def _resolve(path: str) -> Any:
    cmd = ROOT
    for part in path.split():
        assert hasattr(cmd, "commands"), f"{path}: {part} under a plain command"
        assert part in cmd.commands, f"nlpkit {path}: no such command"
        cmd = cmd.commands[part]
    return cmd


def _params(cmd: Any) -> list[tuple[str | None, tuple[str, ...], bool]]:
    return [(p.name, tuple(p.opts), p.required) for p in cmd.params]


@pytest.mark.parametrize("old, new", sorted(DEPRECATED.items()))
def test_every_old_name_is_the_new_command_with_a_note(old, new):
    old_cmd, new_cmd = _resolve(old), _resolve(new)
    assert _params(old_cmd) == _params(new_cmd)  # same arguments and options, same defaults below
    assert [p.default for p in old_cmd.params] == [p.default for p in new_cmd.params]
    assert old_cmd.hidden or old.split()[0] in ("store", "eval")  # old top-level names are out of the help
    assert not new_cmd.hidden
    for args in (old.split(), new.split()):
        res = runner.invoke(app, [*args, "--help"])
        assert res.exit_code == 0, res.output
        assert "Usage:" in res.output


def test_old_names_are_hidden_and_the_groups_read_in_pipeline_order():
    res = runner.invoke(app, ["--help"], terminal_width=120)
    assert res.exit_code == 0
    listed = re.findall(r"^│ ([a-z][a-z-]+) ", res.output, flags=re.M)
    commands = [c for c in listed if c in PANELS]
    assert commands == list(PANELS)  # data query news topics tokens features train models ui flows
    panels = re.findall(r"╭─ ([^─]+?) ─", res.output)
    assert panels == ["Options", *dict.fromkeys(PANELS.values())]
    top_old = {old for old in DEPRECATED if " " not in old} | {"store", "eval"}
    assert not top_old & set(listed), f"old names still listed: {top_old & set(listed)}"
    assert set(GROUPS) <= set(listed)


def test_help_shows_no_bool_metavar_for_flags():
    """`--report/--no-report` and friends take no value: help must not print `<bool>` next to them."""
    seen = 0
    stack: list[tuple[str, Any]] = [("", ROOT)]
    while stack:
        path, cmd = stack.pop()
        res = runner.invoke(app, [*path.split(), "--help"], terminal_width=200)
        assert res.exit_code == 0, (path, res.output)
        assert "<bool>" not in res.output, f"nlpkit {path} --help shows <bool>"
        seen += 1
        for name, sub in getattr(cmd, "commands", {}).items():
            if not sub.hidden:
                stack.append((f"{path} {name}".strip(), sub))
    assert seen > 40
    res = runner.invoke(app, ["features", "build", "--help"], terminal_width=200)
    assert "<int>" in res.output  # value options keep their type


def test_removal_version_is_the_next_minor_release():
    assert removal_version("0.1.0") == "0.2"
    assert removal_version("1.9.3") == "1.10"


def test_old_and_new_names_run_the_same_and_exit_the_same(news_rows, tmp_path, monkeypatch):
    invoke = cli_invoker(tmp_path, monkeypatch)
    import_corpus(Store(tmp_path / "data"), "news", write_news_slice(news_rows, tmp_path / "n.jsonl", 2),
                  ImportOptions(label_col="label", id_col="id"))
    note = (f"note: 'nlpkit datasets' is deprecated; use 'nlpkit data list' (datasets will be removed in "
            f"{removal_version()})")
    code_old, out_old = invoke("datasets")
    code_new, out_new = invoke("data", "list")
    assert code_old == code_new == 0
    assert out_old.splitlines()[0] == note
    assert out_old.splitlines()[1:] == out_new.splitlines()
    assert "news" in out_new and "16" in out_new  # 2 real articles of each of the 8 topics
    code_old, out_old = invoke("history", "no_such")
    code_new, out_new = invoke("data", "history", "no_such")
    assert code_old == code_new == 2
    assert out_old.splitlines()[0].startswith("note: 'nlpkit history' is deprecated; use 'nlpkit data history'")
    assert out_old.splitlines()[1:] == out_new.splitlines()
    assert out_new.startswith("error: dataset 'no_such'")
    code, out = invoke("store", "migrate")  # an old group: the note, then the same command
    assert out.splitlines()[0].startswith("note: 'nlpkit store migrate' is deprecated; use 'nlpkit data migrate'")
    assert (code, out.splitlines()[1:]) == (lambda c, o: (c, o.splitlines()))(*invoke("data", "migrate"))
