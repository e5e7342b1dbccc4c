"""Running the `nlpkit` CLI from tests: in-process (CliRunner) or in a fresh child with its peak memory.

One copy for every test package (the error, import and model-file tests all drive the CLI the same way).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpkit.cli import _common, app

ROOT = Path(__file__).resolve().parents[1]

# Runs the CLI in a child and reports (exit code, peak RSS in MiB) on the last line of stderr.
# Peak memory is VmHWM: ru_maxrss of a child spawned with vfork+exec also counts the parent's (pytest's) peak.
_CHILD = """
import sys
from nlpkit.cli import app
try:
    app(sys.argv[1:], standalone_mode=True)
    code = 0
except SystemExit as e:
    code = e.code if isinstance(e.code, int) else 1
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(f"RESULT {code} {int(hwm.split()[1]) // 1024}", file=sys.stderr)
"""


def run_cli_child(cwd: Path, *args: str) -> tuple[int, int, str]:
    """(exit code, peak RSS MiB, output) of the CLI run in a fresh process with its store in ``cwd/data``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NLPKIT_DATA_DIR": str(cwd / "data"), "NLPKIT_NO_PROGRESS": "1"}
    env.pop("NLPKIT_FLOWS", None)
    res = subprocess.run([sys.executable, "-c", _CHILD, *args], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=300)
    last = res.stderr.strip().splitlines()[-1].split()
    return int(last[1]), int(last[2]), res.stdout + res.stderr


def cli_invoker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, str]]:
    """An in-process CLI over a store in ``tmp_path/data``: ``invoke(*args) -> (exit code, output)``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NLPKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NLPKIT_FLOWS", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        _common._state.clear()
        res = runner.invoke(app, list(args))
        return res.exit_code, res.output  # click 8.2+: stdout and stderr interleaved

    return invoke
