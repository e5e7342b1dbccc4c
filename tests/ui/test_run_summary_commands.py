"""Every command the `make run` summary offers works when pasted into a shell (here: the small ui store)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from nlpkit.flowspec import FlowResult
from nlpkit.store import Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_each_next_command_runs_when_pasted(ui_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from nlpkit.cli._common import console
    from nlpkit.cli.run_summary import print_built

    monkeypatch.chdir(ROOT)
    results = [FlowResult("datasets", "completed", "2026-12-06T15:00:00+00:00", 3.2, rows=320,
                          value={"korean_news": {"rows": 320}})]
    with console.capture() as cap:
        print_built(ui_store, results, "quick")
    out = cap.get()
    assert "'quick' profile" in out and "make run-full" in out  # quick figures are said to be quick
    assert "completed  datasets" in out and "320 rows" in out and "{" not in out.split("Datasets")[0]
    ui_line = next(line for line in out.splitlines() if line.startswith("Look at it in the browser: "))
    exe = ui_line.removeprefix("Look at it in the browser: ").split()[0]
    assert ui_line.split()[7] == "ui" and (ROOT / exe).is_file()  # a path from here (or absolute) that exists
    commands = [line.strip() for line in out.split("Next, try:")[1].splitlines() if line.startswith(f"  {exe} ")]
    assert len(commands) >= 5, out  # data list, flows runs, query, similar, predict
    assert any("models predict korean_news" in c for c in commands) and any("features similar" in c for c in commands)
    env = {**os.environ, "NLPKIT_DATA_DIR": str(ui_store.root), "PYTHONPATH": str(ROOT)}
    for command in commands:
        res = subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, f"{command}: {res.stdout[-500:]} {res.stderr[-1500:]}"
        assert res.stdout.strip(), command
        if "models predict" in command:
            assert res.stdout.splitlines()[0].startswith("label\tprobability")
            assert res.stdout.splitlines()[1].split("\t")[0] in {"정치", "경제", "사회", "생활/문화", "세계", "기술/IT",
                                                                 "연예", "스포츠"}
