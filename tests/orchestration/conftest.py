from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture
def project(tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary project root with the tiny flows and a small real corpus (Korean news)."""
    shutil.copytree(HERE / "flowfiles", tmp_path / "flowfiles")
    rows = []
    with gzip.open(shared_data / "korean_news" / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            body = json.loads(line)["body"]
            if body.strip():
                rows.append({"text": body})
            if len(rows) == 40:
                break
    monkeypatch.chdir(tmp_path)  # `nlpkit run` changes into the project root; undo after the test
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return tmp_path
