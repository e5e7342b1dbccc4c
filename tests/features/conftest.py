"""Real-data slices shared by the feature tests (built once per session)."""

from __future__ import annotations

import gzip
import json
import tarfile
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def imdb_texts(shared_data: Path) -> list[str]:
    """The first 1,500 reviews of the real aclImdb tarball (streamed, stops early)."""
    texts: list[str] = []
    with tarfile.open(shared_data / "imdb" / "aclImdb_v1.tar.gz", "r:gz") as tf:
        for m in tf:
            if m.isfile() and m.name.endswith(".txt") and m.name.count("/") == 3 and "/urls_" not in m.name:
                texts.append(tf.extractfile(m).read().decode("utf-8"))  # type: ignore[union-attr]
                if len(texts) == 1500:
                    break
    return texts


@pytest.fixture(scope="session")
def news_rows(shared_data: Path) -> list[dict]:
    """All 1,600 real Korean news articles (title, body, label)."""
    with gzip.open(shared_data / "korean_news" / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def write_news_slice(rows: list[dict], path: Path, per_label: int, labels: bool = True) -> Path:
    """A JSONL of ``per_label`` real articles of each topic (text = title + body)."""
    taken: dict[int, int] = {}
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            if not r["body"] or taken.get(r["label"], 0) >= per_label:
                continue
            taken[r["label"]] = taken.get(r["label"], 0) + 1
            rec = {"id": r["id"], "text": f"{r['title']}\n{r['body']}"}
            if labels:
                rec["label"] = r["category"]
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def write_articles_subset(rows: list[dict], path: Path, per_label: int) -> Path:
    """``per_label`` real articles of each topic in the source's own JSONL format (for ``build_korean_news``)."""
    taken: dict[int, int] = {}
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            if r["body"] and taken.get(r["label"], 0) < per_label:
                taken[r["label"]] = taken.get(r["label"], 0) + 1
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path
