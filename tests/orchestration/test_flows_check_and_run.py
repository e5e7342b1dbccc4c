"""`nlpkit flows check` on broken files and `nlpkit run` in dependency order."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpkit.cli import _common, app
from nlpkit.store import Store

runner = CliRunner()


def invoke(project: Path, *args: str):
    _common._state.clear()  # settings are cached per process
    return runner.invoke(app, ["--flows", str(project / "flows.yaml"), *args],
                         env={"NLPKIT_DATA_DIR": str(project / "data")})


def write_flows(project: Path, body: str) -> None:
    (project / "flows.yaml").write_text(body, encoding="utf-8")


GOOD = """
flows:
  - name: ingest
    entrypoint: flowfiles/tiny.py:tiny_import
    parameters: {path: corpus.jsonl}
    schedule: {cron: "0 * * * *"}
  - name: broken
    entrypoint: flowfiles/tiny.py:tiny_fail
  - name: after-broken
    entrypoint: flowfiles/tiny.py:tiny_import
    parameters: {path: corpus.jsonl, name: tiny2}
    depends_on: [broken]
"""


def test_check_accepts_good_file(project: Path) -> None:
    write_flows(project, GOOD)
    res = invoke(project, "flows", "check")
    assert res.exit_code == 0, res.output
    assert "3 flow(s) OK" in " ".join(res.output.split())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("flows: [{name: a, entrypoint: flowfiles/nope.py:x}]", "flow 'a', key 'entrypoint'.*not found"),
        ("flows: [{name: a, entrypoint: flowfiles/tiny.py:missing}]", "has no 'missing'"),
        ("flows: [{name: a, entrypoint: flowfiles/tiny.py:not_a_flow}]", "is not a Prefect flow"),
        ("flows: [{name: a, entrypoint: flowfiles/tiny.py:tiny_import, parameters: {pth: x}}]", "flow 'a', key 'parameters'.*pth"),
        ("flows: [{name: a, entrypoint: flowfiles/tiny.py:tiny_fail, schedule: {cron: '61 * * * *'}}]", "invalid cron"),
        ("flows: [{name: a, entrypoint: flowfiles/tiny.py:tiny_fail, depends_on: [b]},"
         " {name: b, entrypoint: flowfiles/tiny.py:tiny_fail, depends_on: [a]}]", "dependency cycle: a -> b -> a"),
        ("flows: [{name: a, entrypoint: flowfiles/tiny.py:tiny_fail, depends_on: [zz]}]", "unknown flow.*zz"),
        ("flows: [{name: a, entrypoint: flowfiles/tiny.py:tiny_fail, task_runner: spark}]", "task_runner"),
    ],
)
def test_check_names_the_problem(project: Path, body: str, expected: str) -> None:
    write_flows(project, body)
    res = invoke(project, "flows", "check")
    assert res.exit_code == 2
    import re

    assert re.search(expected, res.output.replace("\n", " ")), res.output
    assert "flows.yaml" in res.output


def test_run_all_in_dependency_order_records_runs(project: Path, prefect_harness: None) -> None:
    write_flows(project, GOOD)
    res = invoke(project, "run", "all")
    assert res.exit_code == 1, res.output  # one flow fails on purpose
    runs = Store(project / "data").read_appended("runs").to_pylist()
    by_flow = {r["flow"]: r for r in runs}
    assert by_flow["ingest"]["state"] == "completed" and by_flow["ingest"]["rows"] == 40
    assert by_flow["broken"]["state"] == "failed" and "broken on purpose" in by_flow["broken"]["error"]
    assert by_flow["after-broken"]["state"] == "not_run"
    assert "upstream flow(s) did not complete: broken" in by_flow["after-broken"]["error"]
    res = invoke(project, "runs")
    assert res.exit_code == 0 and "ingest" in res.output and "not_run" in res.output


def test_run_one_with_param_override(project: Path, prefect_harness: None) -> None:
    write_flows(project, GOOD)
    res = invoke(project, "run", "ingest", "--param", "name=other")
    assert res.exit_code == 0, res.output
    assert Store(project / "data").latest("other").rows == 40
    res = invoke(project, "run", "nosuch")
    assert res.exit_code == 2 and "declared flows: ingest, broken, after-broken" in res.output


def test_check_refuses_a_profile_parameter_the_flow_does_not_take(project: Path) -> None:
    write_flows(project, GOOD + "profiles:\n  quick:\n    ingest: {nmae: x}\n")
    res = invoke(project, "flows", "check")
    assert res.exit_code == 2 and "profile 'quick'" in res.output and "nmae" in res.output, res.output
    write_flows(project, GOOD + "profiles:\n  quick:\n    nosuch: {name: x}\n")
    res = invoke(project, "flows", "check")
    assert res.exit_code == 2 and "profile 'quick' names unknown flow(s): nosuch" in res.output, res.output


def test_run_with_a_profile_applies_its_overrides(project: Path, prefect_harness: None) -> None:
    write_flows(project, GOOD + "profiles:\n  quick:\n    ingest: {name: quickone}\n")
    res = invoke(project, "run", "ingest", "--profile", "quick")
    assert res.exit_code == 0, res.output
    assert Store(project / "data").latest("quickone").rows == 40
    res = invoke(project, "run", "all", "--profile", "nope")
    assert res.exit_code == 2 and "declared profiles: quick" in res.output
