"""`nlpkit flows serve`: serve every scheduled flow of flows.yaml with Prefect.

Prefect cannot schedule on its ephemeral server, so unless ``PREFECT_API_URL`` names a
server we start one ourselves (SQLite under the data directory, bound to 127.0.0.1), wait
for its health endpoint, serve the deployments, and on SIGTERM/SIGINT stop serving and stop
the server we started (its whole process group).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from nlpkit.errors import ConfigError, NlpkitError

log = logging.getLogger(__name__)


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def local_server(host: str, port: int, home: Path, timeout: float = 90.0) -> Iterator[str]:
    """Start `prefect server start` in its own process group; yield its API URL; stop it on exit."""
    api_url = f"http://{host}:{port}/api"
    if _healthy(api_url):
        raise NlpkitError(f"something already answers at {api_url}; set PREFECT_API_URL to use it or pick --port")
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    prefect_bin = Path(sys.executable).with_name("prefect")
    cmd = [str(prefect_bin), "server", "start", "--host", host, "--port", str(port)]
    log_file = (home / "server.log").open("ab")
    proc = subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(api_url):
            if proc.poll() is not None:
                raise NlpkitError(f"the Prefect server exited with code {proc.returncode}; see {home / 'server.log'}")
            if time.monotonic() > deadline:
                raise NlpkitError(f"the Prefect server did not answer at {api_url} within {timeout:.0f} s; see {home / 'server.log'}")
            time.sleep(0.5)
        log.info("Prefect server ready at %s (UI: http://%s:%s)", api_url, host, port)
        yield api_url
    finally:
        _stop_group(proc)
        log_file.close()


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, then SIGKILL whatever is left after 15 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def serve_flows(flows_file: Path, host: str = "127.0.0.1", port: int = 4200) -> None:
    """Serve every scheduled flow in ``flows_file`` until SIGTERM/SIGINT."""
    flows_file = flows_file.resolve()
    root = flows_file.parent
    os.chdir(root)  # Prefect records deployments' entrypoints relative to the cwd; settings do not depend on it

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _interrupt)

    from nlpkit.settings import load_settings

    cfg = load_settings(flows_file, os.environ)  # each served run re-resolves flows_file (its `settings` parameter)
    if not any(f.schedule for f in cfg.flows):
        raise ConfigError(f"{flows_file}: no flow has a schedule (key 'schedule'); nothing would ever run")
    external = os.environ.get("PREFECT_API_URL")
    with contextlib.ExitStack() as stack:
        if not external:
            api_url = stack.enter_context(local_server(host, port, cfg.data_dir / ".prefect-server"))
            os.environ["PREFECT_API_URL"] = api_url
        elif not _healthy(external):
            raise NlpkitError(f"PREFECT_API_URL={external} does not answer its /health endpoint")
        import prefect

        from pipelines._runtime import deployments

        deps = deployments(cfg, root, flows_file)
        log.info("serving %d flow(s): %s", len(deps), ", ".join(d.name for d in deps))
        try:
            prefect.serve(*deps, print_starting_message=True)
        except KeyboardInterrupt:
            log.info("stopping: signal received")
