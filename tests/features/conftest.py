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


@pytest.fixture(scope="session")
def press_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A store holding the real korean_press posts, their kiwi tokens and the analyst's tables
    (`nlpkit features analyse korean_press`), built once per session (~15 CPU s, kiwi)."""
    from nlpkit.datasets.registry import rebuild
    from nlpkit.features.analysis import build_analysis
    from nlpkit.store import Store

    store = Store(tmp_path_factory.mktemp("press") / "data")
    rebuild(store, "korean_press", str(shared_data / "korean_press_tweets"))
    build_analysis(store, "korean_press")
    return store


def make_doc_terms(rows: list[set[str]], outlets: list[str] | None = None):  # type: ignore[no-untyped-def]
    """A tiny DocTerms (one row per set of terms, hourly times) for exact checks of the statistics."""
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    from nlpkit.features.docterms import DocTerms
    from nlpkit.tokenize.spec import TermSpec

    vocab = sorted({t for r in rows for t in r})
    col = {t: j for j, t in enumerate(vocab)}
    X = sp.lil_matrix((len(rows), len(vocab)), dtype=np.float32)
    for i, r in enumerate(rows):
        for t in r:
            X[i, col[t]] = 1
    meta = pd.DataFrame({"time": pd.Series(pd.date_range("2024-01-01", periods=len(rows), freq="h", tz="UTC")),
                         "outlet": outlets or ["a"] * len(rows), "outlet_group": [""] * len(rows),
                         "label": [""] * len(rows)})
    return DocTerms("toy", [str(i) for i in range(len(rows))], vocab, X.tocsr(), meta, TermSpec(backend="regex"))


@pytest.fixture(scope="session")
def doc_terms_of():  # type: ignore[no-untyped-def]
    """:func:`make_doc_terms` as a fixture (tests build their own tiny corpora with it)."""
    return make_doc_terms
