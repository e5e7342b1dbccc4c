"""Every command fails the same way: one `error:` line and exit 2 for what a user can fix, exit 1 otherwise."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pytest

from nlpkit.cli import app
from nlpkit.store import Store
from tests.cli_harness import cli_invoker


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    return cli_invoker(tmp_path, monkeypatch)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "data")
    with s.write_version("imdb") as w:
        w.write(pa.table({"id": ["a", "b"], "text": ["x", "y"], "tokens": [["x"], ["y", "z"]]}))
    s.append("articles", pa.table({"canonical_url": ["u"], "authors": [["kim", "lee"]]}))
    return s


def _walk(typer_app):  # type: ignore[no-untyped-def]
    for cmd in typer_app.registered_commands:
        yield cmd
    for group in typer_app.registered_groups:
        yield from _walk(group.typer_instance)


def test_every_command_is_wrapped() -> None:
    commands = list(_walk(app))
    assert len(commands) > 20
    assert all(getattr(c.callback, "__nlpkit_handled__", False) for c in commands)


def _one_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out
    assert "Traceback" not in out
    return lines[0]


@pytest.mark.parametrize(("args", "needle"), [
    (["query", "SELECT * FROM imbd"], "did you mean imdb"),
    (["query", "SELEC 1"], "does not parse"),
    (["query", "EXPLAIN ANALYZE COPY (SELECT 42 AS x) TO 'x.csv'"], "read-only"),
    (["query", "SELECT 1", "--as-of", "imdb=x"], "NAME=VERSION"),
    (["query", "SELECT 1", "--as-of", "nosuch=1"], "no such dataset"),
    (["query", "SELECT count(*) FROM range(100000000) a, range(100000000) b", "--timeout", "0.5"], "--timeout"),
    (["query", "SELECT 1", "--out", "x.xlsx"], "unknown format"),
    (["data", "history", "nosuch"], "known datasets: imdb"),
    (["data", "import", "mine", "missing.jsonl"], "missing.jsonl"),
    (["data", "import", "Bad-Name", "missing.jsonl"], ""),
])
def test_expected_failures_are_one_line_exit_2(cli, store: Store, args: list[str], needle: str) -> None:  # type: ignore[no-untyped-def]
    code, out = cli(*args)
    assert code == 2, out
    assert needle in _one_line(out)


def test_export_of_list_columns_works(cli, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out = cli("query", "SELECT * FROM articles", "--out", "a.csv")
    assert code == 0, out
    assert '["kim", "lee"]' in (tmp_path / "a.csv").read_text().replace('""', '"')
    code, out = cli("query", "SELECT * FROM imdb", "--out", "a.json")
    assert code == 0 and json.loads((tmp_path / "a.json").read_text())[1]["tokens"] == ["y", "z"]


def test_unexpected_error_names_the_traceback_file(cli, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from nlpkit.store import sql_worker

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(sql_worker.IsolatedSandbox, "fetch", broken)  # what `nlpkit query` calls
    code, out = cli("query", "SELECT 1")
    assert code == 1
    line = _one_line(out)
    assert "unexpected ZeroDivisionError: simulated bug" in line
    path = Path(re.search(r"full traceback in (\S+?);", line).group(1))
    assert "Traceback" in path.read_text() and "simulated bug" in path.read_text()
    path.unlink()
    code, out = cli("--debug", "query", "SELECT 1")
    assert code == 1 and "Traceback" in out and "ZeroDivisionError" in out


def test_write_conflict_is_a_clear_error(cli, store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import deltalake

    from nlpkit.store import tables

    def conflict(*args: object, **kwargs: object) -> None:
        raise deltalake.exceptions.CommitFailedError("Transaction failed: version already exists")

    monkeypatch.setattr(tables, "RETRIES", 1)
    monkeypatch.setattr(deltalake, "write_deltalake", conflict)
    with pytest.raises(Exception, match="another writer kept committing first"):
        store.append("articles", pa.table({"canonical_url": ["v"]}))
    assert store.read_appended("articles").num_rows == 1  # nothing half-written, nothing lost


def test_query_prints_numbers_for_people_and_exports_them_whole(cli, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sql = "SELECT 2.0/3 AS share, 1234567.891::DOUBLE AS big, 1e-9 AS tiny, 'x' AS name"
    code, out = cli("query", sql)
    assert code == 0, out
    assert "0.6667" in out and "0.666666" not in out
    assert "1,234,568" in out and "1e-09" in out
    code, out = cli("query", sql, "--out", "n.json")
    assert code == 0, out
    row = json.loads((tmp_path / "n.json").read_text())[0]
    assert row["share"] == pytest.approx(2 / 3, rel=1e-12) and row["big"] == 1234567.891
