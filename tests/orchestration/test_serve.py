"""`nlpkit serve`: a local Prefect server, schedules that fire, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nlpkit.errors import DatasetNotFoundError
from nlpkit.store import Store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_pids(port: int) -> list[str]:
    out = subprocess.run(["pgrep", "-f", f"server start --host 127.0.0.1 --port {port}"], capture_output=True, text=True)
    return out.stdout.split()


@pytest.mark.timeout(420)
def test_serve_fires_interval_schedule_and_stops_cleanly(project: Path) -> None:
    (project / "flows.yaml").write_text(
        "data_dir: data\nflows:\n  - name: ingest\n    entrypoint: flowfiles/tiny.py:tiny_import\n"
        "    parameters: {path: corpus.jsonl}\n    schedule: {interval: 10}\n"
        "  - name: after-ingest\n    entrypoint: flowfiles/tiny.py:tiny_import\n"
        "    parameters: {path: corpus.jsonl, name: downstream}\n    depends_on: [ingest]\n",
        encoding="utf-8",
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update({"PREFECT_HOME": str(project / ".prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    env.pop("NLPKIT_DATA_DIR", None)
    log = (project / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nlpkit.cli", "--flows", str(project / "flows.yaml"), "serve", "--port", str(port)],
        cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    store = Store(project / "data")
    completed: list[dict] = []
    try:
        deadline = time.monotonic() + 300  # runs start in subprocesses: slow on a loaded 2-core machine
        while time.monotonic() < deadline and (len(completed) < 3 or "after-ingest" not in {r["flow"] for r in completed}):
            time.sleep(2)
            assert proc.poll() is None, (project / "serve.log").read_text()[-3000:]
            try:
                rows = store.read_appended("runs").to_pylist()
            except DatasetNotFoundError:
                continue
            completed = [r for r in rows if r["state"] == "completed"]
        ingests = [r for r in completed if r["flow"] == "ingest"]
        assert len(ingests) >= 2, ((project / "serve.log").read_text()[-3000:], store.read_appended("runs").to_pylist())
        assert {r["trigger"] for r in ingests} == {"schedule"}
        # started by the completed upstream run, and recorded as such (not as "schedule")
        assert {r["trigger"] for r in completed if r["flow"] == "after-ingest"} == {"upstream: ingest"}
        # the unscheduled dependant ran after an upstream run completed (deployment trigger)
        assert {r["flow"] for r in completed} == {"ingest", "after-ingest"}, (project / "serve.log").read_text()[-3000:]
        assert all(r["rows"] == 40 for r in completed)
        assert _server_pids(port), "serve should have started its own Prefect server"
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
        log.close()
    assert rc == 0, (project / "serve.log").read_text()[-3000:]
    time.sleep(1)
    assert _server_pids(port) == [], "the Prefect server must not outlive `nlpkit serve`"
