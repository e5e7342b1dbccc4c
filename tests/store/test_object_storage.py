"""The store on object storage: ``s3://bucket/prefix`` against a local moto S3 server.

moto's server runs in a child process (``python -m moto.server``), not in a thread of the test
process: delta-rs keeps the GIL while it waits on S3, so a server thread in the same
interpreter can never answer it (``ThreadedMotoServer`` deadlocks on the first ``history()``).
Rows are real Korean comments from korean_hate_speech's dev split.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from nlpkit.errors import DatasetError, DatasetNotFoundError, NlpkitError, StorageError
from nlpkit.store import Store
from nlpkit.store.maintenance import history, vacuum

pytest.importorskip("moto.server", reason="moto[server] is in the dev extra: pip install 'nlpkit[dev]'")
boto3 = pytest.importorskip("boto3")

REPO = Path(__file__).resolve().parents[2]
BUCKET = "nlpkit-test"
CREDS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("moto server did not start")
        url = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _options(endpoint: str) -> dict[str, str]:
    return {**CREDS, "endpoint_url": endpoint, "allow_http": "true", "conditional_put": "etag"}


@pytest.fixture
def s3store(endpoint: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    prefix = request.node.name.replace("[", "_").replace("]", "")
    return Store(f"s3://{BUCKET}/{prefix}", _options(endpoint), cache_dir=tmp_path / "cache")


@pytest.fixture(scope="module")
def comments(shared_data: Path) -> list[dict[str, str]]:
    with (shared_data / "korean_hate_speech" / "labeled" / "dev.tsv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _write(store: Store, rows: list[dict[str, str]], seed: int) -> None:
    data = pa.table({"text": [r["comments"] for r in rows], "label": [r["hate"] for r in rows]})
    rejects = pa.table({"text": [r["comments"] for r in rows[:seed]], "reason": ["short"] * seed})
    with store.write_version("hate", parameters={"seed": seed}, source="dev.tsv") as w:
        w.write(data)
        w.write(rejects, "rejects")
        np.save(w.dir / "emb.npy", np.arange(len(rows), dtype=np.float32) * seed)
        (w.dir / "vocab.json").write_text('{"송중기": 1}', encoding="utf-8")


def test_versions_side_tables_and_artifacts_round_trip(s3store: Store, comments: list[dict[str, str]],
                                                       endpoint: str, tmp_path: Path) -> None:
    _write(s3store, comments[:100], seed=1)
    _write(s3store, comments[100:250], seed=2)
    assert s3store.datasets() == ["hate"]
    v1, v2 = s3store.versions("hate")
    assert (v1.version, v1.rows, v1.manifest["parameters"]) == ("v1", 100, {"seed": 1})
    assert (v2.version, v2.rows, v2.manifest["source"]) == ("v2", 150, "dev.tsv")
    assert s3store.read("hate", version="v1").column("text").to_pylist() == [r["comments"] for r in comments[:100]]
    assert s3store.read("hate").num_rows == 150
    assert s3store.read("hate", "rejects", version=1).num_rows == 1  # side table pinned by the version
    assert s3store.read("hate", "rejects").num_rows == 2
    assert s3store.columns("hate") == ["text", "label"]
    cache = s3store.root.conn.cache_dir  # cache_dir / <one folder per store URI>
    assert cache.parent == tmp_path / "cache"
    assert not any((cache / "staging").iterdir())  # staged artifacts became the writer's cached copy
    assert s3store.latest("hate").path == cache / "artifacts" / "hate" / v2.manifest["artifacts"]
    # a fresh cache (another machine): artifacts download from S3 and match the manifest's sha256
    other = Store(str(s3store.root), _options(endpoint), cache_dir=tmp_path / "elsewhere")
    info = other.version("hate", "v1")
    assert info.path.is_relative_to(tmp_path / "elsewhere")
    np.testing.assert_array_equal(np.load(info.path / "emb.npy"), np.arange(100, dtype=np.float32))
    assert (info.path / "vocab.json").read_text(encoding="utf-8") == '{"송중기": 1}'
    assert set(info.manifest["files"]) == {"emb.npy", "vocab.json"}
    assert [h["rows"] for h in history(other, "hate")[:2]] == [150, 100]


def test_damaged_artifact_is_refused(s3store: Store, comments: list[dict[str, str]], endpoint: str,
                                     tmp_path: Path) -> None:
    _write(s3store, comments[:10], seed=1)
    info = s3store.latest("hate")
    (info.location / "emb.npy").upload(REPO / "pyproject.toml")  # overwrite with other bytes
    fresh = Store(str(s3store.root), _options(endpoint), cache_dir=tmp_path / "fresh").latest("hate")
    with pytest.raises(DatasetError, match="does not match its sha256; rebuild the dataset"):
        fresh.path
    assert not any((tmp_path / "fresh").rglob("emb.npy"))  # the bad copy is not left for the next reader


def test_failed_write_leaves_nothing(s3store: Store, comments: list[dict[str, str]], tmp_path: Path) -> None:
    _write(s3store, comments[:10], seed=1)
    with pytest.raises(RuntimeError, match="boom"), s3store.write_version("hate") as w:
        w.write(pa.table({"text": ["x"], "label": ["none"]}))
        np.save(w.dir / "emb.npy", np.zeros(3))
        raise RuntimeError("boom")
    assert [v.version for v in s3store.versions("hate")] == ["v1"]
    arts = list((s3store.root / "datasets" / "hate" / "_artifacts").iterdir())
    assert [a.name for a in arts] == [s3store.latest("hate").manifest["artifacts"]]
    assert len(list((s3store.root / "datasets" / "hate" / "data").glob("part-*"))) == 1  # the failed file deleted
    assert not any((s3store.root.conn.cache_dir / "staging").iterdir())


def test_append_tables_and_sql(s3store: Store, comments: list[dict[str, str]]) -> None:
    for r in comments[:3]:
        s3store.append("fetch_log", pa.table({"text": [r["comments"]], "n": [len(r["comments"])]}))
    assert s3store.tables() == ["fetch_log"]
    assert s3store.read_appended("fetch_log").column("text").to_pylist() == [r["comments"] for r in comments[:3]]
    _write(s3store, comments[:20], seed=1)
    cols, rows = s3store.sql().query("SELECT count(*) FROM hate JOIN hate_rejects USING (text)")
    assert rows == [(1,)]
    assert s3store.sql().query("SELECT count(*) FROM fetch_log")[1] == [(3,)]


def test_cli_query_on_s3(s3store: Store, comments: list[dict[str, str]], endpoint: str, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from nlpkit.cli import _common, app

    _write(s3store, comments[:30], seed=3)
    flows = tmp_path / "flows.yaml"
    flows.write_text(f"data_dir: {s3store.root}\nstore:\n  storage_options:\n    endpoint_url: {endpoint}\n"
                     "    allow_http: 'true'\n    conditional_put: etag\n    region: us-east-1\n", encoding="utf-8")
    creds = {"NLPKIT_FLOWS": str(flows), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", **creds}
    env.pop("NLPKIT_DATA_DIR", None)
    # one real process: settings from flows.yaml, credentials from AWS_* at the CLI edge
    ok = subprocess.run([sys.executable, "-m", "nlpkit.cli", "query",
                         "SELECT label, count(*) AS n FROM hate GROUP BY 1 ORDER BY 1"],
                        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    expected: dict[str, int] = {}
    for r in comments[:30]:
        expected[r["hate"]] = expected.get(r["hate"], 0) + 1
    for label, n in expected.items():
        assert re.search(rf"\b{label}\b.*\b{n}\b", ok.stdout), ok.stdout
    # the rest in-process (each CLI process costs seconds of imports)
    monkeypatch.delenv("NLPKIT_DATA_DIR", raising=False)
    for k, v in creds.items():
        monkeypatch.setenv(k, v)

    def cli(*args: str) -> Any:
        _common._state.clear()
        return CliRunner().invoke(app, list(args))

    for sql in ("SELECT * FROM read_csv('/etc/passwd')", "COPY hate TO '/tmp/stolen.csv'"):
        res = cli("query", sql)
        assert res.exit_code == 2, (sql, res.output)
        assert res.stderr.startswith("error:") and len(res.stderr.strip().splitlines()) == 1
        assert "root:" not in res.output
    assert not Path("/tmp/stolen.csv").exists()
    listed = cli("datasets")
    assert listed.exit_code == 0 and "hate" in listed.stdout and f"store: {s3store.root}" in listed.stdout
    refused = cli("store", "migrate")
    assert refused.exit_code == 2 and "converts a local data dir only" in refused.stderr
    _common._state.clear()


_APPENDER = """
import sys
import pyarrow as pa
from nlpkit.store import Store
store = Store(sys.argv[1], dict(a.split("=", 1) for a in sys.argv[3:]))
for i in range(20):
    store.append("events", pa.table({"writer": [sys.argv[2]], "i": [i]}))
"""


def test_two_processes_append_concurrently_lose_nothing(s3store: Store, endpoint: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [f"{k}={v}" for k, v in _options(endpoint).items()]
    procs = [subprocess.Popen([sys.executable, "-c", _APPENDER, str(s3store.root), w, *args], env=env,
                              stderr=subprocess.PIPE, text=True) for w in ("a", "b")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    rows = s3store.read_appended("events").to_pylist()
    assert len(rows) == 40
    for w in ("a", "b"):  # each writer's rows all there, in the order it appended them
        assert [r["i"] for r in rows if r["writer"] == w] == list(range(20))


def test_vacuum_keeps_last_k(s3store: Store, comments: list[dict[str, str]]) -> None:
    for seed in (1, 2, 3):
        _write(s3store, comments[: 10 * seed], seed=seed)
    dropped_art = s3store.version("hate", "v1").location
    assert dropped_art.is_dir()
    report = vacuum(s3store, keep=2)
    assert report.dropped_versions == {"hate": ["v1"]}
    assert [v.version for v in s3store.versions("hate")] == ["v2", "v3"]
    assert not dropped_art.is_dir()
    with pytest.raises(DatasetNotFoundError):
        s3store.read("hate", version="v1")
    assert s3store.read("hate", version="v2").num_rows == 20
    np.testing.assert_array_equal(np.load(s3store.latest("hate").path / "emb.npy"),
                                  np.arange(30, dtype=np.float32) * 3)


@pytest.mark.parametrize("root, options, match", [
    ("gs://bucket/x", {}, "only s3:// URIs"),
    ("s3:///x", {}, "names no bucket"),
    (f"s3://{BUCKET}/x", {"endpoint": "http://h"}, "unknown storage option 'endpoint'; allowed: endpoint_url"),
])
def test_bad_store_uri_or_option_is_one_line(root: str, options: dict[str, str], match: str) -> None:
    with pytest.raises(StorageError, match=match):
        Store(root, options)


def test_unreachable_store_is_one_storage_error() -> None:
    store = Store(f"s3://{BUCKET}/x", {**CREDS, "endpoint_url": f"http://127.0.0.1:{_free_port()}",
                                        "allow_http": "true"})
    for call in (store.datasets, store.tables, lambda: store.read("hate")):
        with pytest.raises(NlpkitError) as err:
            call()
        message = str(err.value)
        assert "\n" not in message and "Could not connect" in message and "check endpoint_url" in message


def test_settings_keep_the_uri_and_check_option_names(tmp_path: Path) -> None:
    from nlpkit.cli._common import storage_options
    from nlpkit.errors import ConfigError
    from nlpkit.settings import load_settings

    flows = tmp_path / "flows.yaml"
    flows.write_text("data_dir: s3://nlpkit-test/prod\nstore:\n  storage_options: {region: eu-west-1, "
                     "conditional_put: etag, access_key_id: from-file}\n", encoding="utf-8")
    settings = load_settings(flows, {})
    assert settings.data_dir == "s3://nlpkit-test/prod"  # not made relative to the file, '//' kept
    assert load_settings(None, {"NLPKIT_DATA_DIR": "s3://b-1/x"}).data_dir == "s3://b-1/x"
    assert load_settings(None, {"NLPKIT_DATA_DIR": "rel"}).data_dir == Path("rel").resolve()
    opts = storage_options(settings, {"AWS_ACCESS_KEY_ID": "from-env", "AWS_SECRET_ACCESS_KEY": "s", "HOME": "/"})
    assert opts == {"region": "eu-west-1", "conditional_put": "etag", "access_key_id": "from-env",
                    "secret_access_key": "s"}
    flows.write_text("store:\n  storage_options: {endpoint: http://h}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="store.storage_options.endpoint"):
        load_settings(flows, {})
