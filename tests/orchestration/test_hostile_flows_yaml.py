"""Hostile flows.yaml (issue #20): alias bombs, numbers out of range, schedules that never fire or
overflow are refused by `flows validate`, `run` and `serve` alike, fast, with one line naming the file."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpkit.cli import _common, app
from nlpkit.errors import ConfigError
from nlpkit.settings import load_settings

runner = CliRunner()


def invoke(project: Path, *args: str):
    _common._state.clear()
    return runner.invoke(app, ["--flows", str(project / "flows.yaml"), *args],
                         env={"NLPKIT_DATA_DIR": str(project / "data")})


def bomb(levels: int = 9) -> str:
    """A billion-laughs anchor chain: 10**levels values once every alias is expanded."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines)


def _flow(extra: str = "", params: str = "{path: corpus.jsonl}") -> str:
    return f"flows:\n  - name: ingest\n    entrypoint: flowfiles/tiny.py:tiny_import\n    parameters: {params}\n{extra}"


CASES = [
    # alias bombs in a typed key, in flow parameters, in a profile
    ("x-bomb:\n  " + bomb().replace("\n", "\n  ") + "\njava_heap_mb: 2048\n" + _flow(), r"aliases expand to over 100,000"),
    (_flow(params="{path: corpus.jsonl, name: *a8}").replace("flows:", bomb() + "\nflows:"),
     r"aliases expand to over 100,000"),
    (bomb() + "\n" + _flow() + "profiles: {quick: {ingest: {name: *a8}}}\n", r"aliases expand to over 100,000"),
    ("a: &a [*a]\n", r"recursive YAML alias"),
    ("x: " + "[" * 5000 + "]" * 5000 + "\n", r"nesting is too deep"),
    # numbers out of range
    (_flow("    retries: 1.0e+32\n"), r"key 'flows\.0\.retries'"),
    (_flow(params="{path: corpus.jsonl, max_cpu_minutes: 1e400}"), r"max_cpu_minutes': 1e400 is out of range"),
    (_flow(params="{path: corpus.jsonl, epochs: 1e29}"), r"epochs': 1e29 is out of range"),
    (_flow(params="{path: corpus.jsonl, nested: {seed: .nan}}"), r"key 'nested\.seed': nan is out of range"),
    ("java_heap_mb: 1.0e+26\n" + _flow(), r"key 'java_heap_mb'"),
    (_flow() + "profiles: {quick: {ingest: {epochs: 99999999999}}}\n", r"profile 'quick', flow 'ingest', key 'epochs'"),
    # schedules
    (_flow("    schedule: {interval: 1e400}\n"), r"key 'flows\.0\.schedule\.interval'"),
    (_flow("    schedule: {interval: 1.0e-300}\n"), r"key 'flows\.0\.schedule\.interval'.*greater than or equal to 1"),
    (_flow("    schedule: {cron: '0 0 30 2 *'}\n"), r"'0 0 30 2 \*' never fires"),
    (_flow("    schedule: {cron: '0 12 31 4 *'}\n"), r"never fires"),
]


@pytest.mark.parametrize(("body", "expected"), CASES)
def test_load_settings_refuses_with_one_line_naming_the_file(tmp_path: Path, body: str, expected: str) -> None:
    p = tmp_path / "flows.yaml"
    p.write_text(body, encoding="utf-8")
    started = time.process_time()
    with pytest.raises(ConfigError) as info:
        load_settings(p, {})
    assert time.process_time() - started < 5  # was 48 s then MemoryError for the typed-key bomb
    msg = str(info.value)
    assert "\n" not in msg and str(p) in msg and re.search(expected, msg), msg
    assert len(msg) < 1000


@pytest.mark.parametrize("command", [("flows", "validate"), ("flows", "run", "ingest"), ("flows", "serve")])
@pytest.mark.parametrize(("body", "expected"), [CASES[1], CASES[6], CASES[13]])
def test_validate_run_and_serve_refuse_alike(project: Path, command: tuple[str, ...], body: str, expected: str) -> None:
    (project / "flows.yaml").write_text(body, encoding="utf-8")
    res = invoke(project, *command)
    assert res.exit_code == 2, res.output
    err = res.stderr.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "flows.yaml" in err, err
    assert re.search(expected, err) and "Traceback" not in res.output


def test_sane_files_still_load(tmp_path: Path) -> None:
    p = tmp_path / "flows.yaml"
    p.write_text(_flow("    schedule: {cron: '0 0 29 2 *'}\n")
                 + "profiles: {quick: {ingest: &q {epochs: 3, lr: 0.003, seed: 4294967295}}, again: {ingest: *q}}\n",
                 encoding="utf-8")
    s = load_settings(p, {})
    assert s.flows[0].schedule.cron == "0 0 29 2 *"  # leap years only, but it fires
    assert s.profiles["again"]["ingest"] == {"epochs": 3, "lr": 0.003, "seed": 4294967295}
