"""flows.yaml's `task_runner: dask` runs the tokenize fan-out on a 2-worker Dask LocalCluster
and produces exactly what the default in-process runner produces."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpkit.cli import _common, app
from nlpkit.store import Store

ROOT = Path(__file__).resolve().parents[2]

FLOWS = """
flows:
  - name: import
    entrypoint: flowfiles/tiny.py:tiny_import
    parameters: {{path: corpus.jsonl, name: news}}
  - name: tokenize
    entrypoint: pipelines/tokenize.py:tokenize_flow
    parameters: {{dataset: news, tokenizer: kiwi, batch_size: 8}}
    depends_on: [import]
    task_runner: {runner}
"""


@pytest.mark.timeout(300)
def test_dask_localcluster_matches_default_runner(project: Path, prefect_harness: None) -> None:
    (project / "pipelines").symlink_to(ROOT / "pipelines")
    tokens = {}
    for runner in ("default", "dask"):
        flows = project / f"flows-{runner}.yaml"
        flows.write_text(FLOWS.format(runner=runner), encoding="utf-8")
        data = project / f"data-{runner}"
        _common._state.clear()
        res = CliRunner().invoke(app, ["--flows", str(flows), "run", "all"], env={"NLPKIT_DATA_DIR": str(data)})
        assert res.exit_code == 0, res.output
        runs = Store(data).read_appended("runs").to_pylist()
        assert [(r["flow"], r["state"]) for r in runs] == [("import", "completed"), ("tokenize", "completed")]
        tokens[runner] = Store(data).read("tokens_news_kiwi").sort_by("id").to_pylist()
    assert len(tokens["default"]) == 40
    assert all(row["n_tokens"] > 10 for row in tokens["default"])
    assert tokens["dask"] == tokens["default"]
