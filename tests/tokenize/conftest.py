"""Session-scoped tokenizers (one JVM for the whole run) and real news sentences."""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path

import pytest

from nlpkit.tokenize import DEFAULT_KO_DICT, get_tokenizer
from nlpkit.tokenize.text import clean, split_chunks

KOREAN_BACKENDS = ["kiwi", "mecab", "okt", "komoran", "hannanum", "kkma"]
JVM_BACKENDS = ["okt", "komoran", "hannanum", "kkma"]
#: Terms the user dictionary must keep whole on every backend (issue 3 plus our own).
DICT_TERMS = ["코로나바이러스감염증", "두산에너빌리티", "에코프로비엠", "헤어질 결심", "오징어 게임",
              "삼성바이오로직스", "LG에너지솔루션", "4차 산업혁명", "아프리카돼지열병"]


@pytest.fixture(scope="session")
def news_articles(shared_data: Path) -> list[dict]:
    with gzip.open(shared_data / "korean_news" / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def news_sentences(news_articles: list[dict]) -> list[str]:
    """24 distinct real sentences, 3 from each of the 8 topics (first articles of each label)."""
    out: list[str] = []
    for label in range(8):
        arts = [a for a in news_articles if a["label"] == label]
        taken = 0
        for a in arts:
            chunks = [c for _, c in split_chunks(clean(a["body"])) if 20 <= len(c) <= 200 and c not in out]
            if chunks:
                out.append(chunks[1] if len(chunks) > 1 else chunks[0])
                taken += 1
            if taken == 3:
                break
    assert len(set(out)) == len(out)
    return out


def _make(name: str, **extra: object):
    opts: dict[str, object] = dict(extra)
    if name == "kkma":
        opts["warn_slow"] = False
    if name == "okt":
        opts.update(norm=True, stem=True)
    try:
        tok = get_tokenizer(name, **opts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tok.warm_up()
    except ImportError as e:  # optional backend not installed
        pytest.skip(f"{name} not installed: {e}")
    return tok


@pytest.fixture(scope="session")
def mecab_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mecab-dic")


@pytest.fixture(scope="session", params=KOREAN_BACKENDS)
def korean_tokenizer(request: pytest.FixtureRequest, mecab_cache: Path):
    """Every Korean backend, created once per session."""
    extra = {"cache_dir": str(mecab_cache)} if request.param == "mecab" else {}
    return _make(request.param, **extra)


@pytest.fixture(scope="session", params=KOREAN_BACKENDS)
def dict_tokenizer(request: pytest.FixtureRequest, mecab_cache: Path):
    """Every Korean backend with the project's news dictionary."""
    extra = {"cache_dir": str(mecab_cache)} if request.param == "mecab" else {}
    return _make(request.param, user_dicts=[DEFAULT_KO_DICT], **extra)
