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


def test_the_running_app_answers_only_allowed_hosts(tmp_path: Path) -> None:
    """`nlpkit ui --allow-host NAME` as a user starts it (uvicorn, a real socket): the loopback names and NAME
    are served, any other Host (DNS rebinding) is one 400 line, and an oversized POST is a 413."""
    import http.client
    import os
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "NLPKIT_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(root)}
    proc = subprocess.Popen([sys.executable, "-m", "nlpkit.cli", "ui", "--port", str(port), "--no-warm",
                             "--allow-host", "analysis.lan"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ask(host: str, method: str = "GET", path: str = "/healthz", body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
            r = conn.getresponse()
            return r.status, r.read().decode()
        finally:
            conn.close()

    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                ask(f"127.0.0.1:{port}")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "nlpkit ui did not start"
                time.sleep(0.2)
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"analysis.lan:{port}"):
            assert ask(host) == (200, "ready\n"), host
        status, text = ask(f"attacker.example:{port}", path="/sql/download?format=csv&q=SELECT+1")
        assert status == 400 and text.startswith("error: Host 'attacker.example' is not served here")
        # a 2 MiB body announced: the answer comes before the body is sent (so it is never read)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            raw.sendall(f"POST /sql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-"
                        f"urlencoded\r\nContent-Length: {2 << 20}\r\n\r\nq=AAAA".encode())
            answer = b""
            while chunk := raw.recv(65536):
                answer += chunk
        head, _, text = answer.decode().partition("\r\n\r\n")
        assert head.startswith("HTTP/1.1 413") and text.startswith("error: request body over")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
