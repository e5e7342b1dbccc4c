"""`nlpkit ui` as a command: listed in --help, bad options are one `error:` line (exit 2)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpkit.cli import app


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    from nlpkit.cli import _common

    monkeypatch.setenv("NLPKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(_common, "_state", {})  # settings are read again from this environment

    def invoke(*args: str):  # noqa: ANN202
        return CliRunner().invoke(app, list(args))
    return invoke


def test_ui_is_a_command(run) -> None:
    r = run("ui", "--help")
    assert r.exit_code == 0 and "--port" in r.stdout and "127.0.0.1" in r.stdout


def test_bad_port_is_one_error_line(run) -> None:
    r = run("ui", "--port", "70000")
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == ["error: --port 70000: use 0-65535 (0 picks a free port)"]


def test_port_in_use_is_one_error_line(run) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = run("ui", "--port", str(s.getsockname()[1]), "--no-warm")
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: port") and "--port" in lines[0], lines
