"""One small real store, built once per session in-process, the app on a free port, and a headless
Chromium from Debian's packages driven by Selenium.

The store: 320 real korean_news articles (40 of each of the 8 sections, the first in file order,
plus one article the search test looks for), the 60 saved English news pages and the 2 saved
Naver article pages scraped as news, features built (regex tokenizer, one k), one
cross-validated classifier run, a TF-IDF baseline and a small RNN classifier trained on the
subset, and the baseline's predicted topics of the scraped articles (``article_topics``).
"""

from __future__ import annotations

import contextlib

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlpkit.store import Store

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,1000"]
PER_SECTION = 40
SEARCHED = "SK하이닉스, 반도체 광고"  # test_search_finds_a_known_article looks for this real title
NAVER_ARTICLES = ("naver_article_edaily_2022-09-14_utf8.html", "naver_article_heraldcorp_2023-09-07_utf8.html")


def _korean_news_subset(source: Path, out: Path) -> int:
    """The first ``PER_SECTION`` articles of each section (file order) plus the searched one."""
    taken: dict[str, int] = {}
    n = 0
    with gzip.open(source, "rt", encoding="utf-8") as f, gzip.open(out, "wt", encoding="utf-8") as w:
        for line in f:
            row = json.loads(line)
            section = row["category"]
            if taken.get(section, 0) < PER_SECTION or SEARCHED in row["title"]:
                taken[section] = taken.get(section, 0) + 1
                w.write(line)
                n += 1
    return n


def _scrape(store: Store, directory: Path, outlet: str) -> None:
    from nlpkit.news.ingest import ingest
    from nlpkit.news.sources import NewsSettings, SourceSpec

    news = NewsSettings(extract_workers=0)
    news = news.model_copy(update={"fetch": news.fetch.model_copy(update={"per_host_delay": 0.0})})
    ingest(store, news, [SourceSpec(name=directory.name, kind="directory", path=directory, outlet=outlet,
                                       language="auto", max_articles=10**9)])


@pytest.fixture(scope="session")
def ui_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The small real store described above (built in-process: ~20 s on a quiet machine)."""
    from nlpkit.datasets.registry import rebuild
    from nlpkit.features.build import BuildOptions, build_features
    from nlpkit.features.classify import ClassifyOptions
    from nlpkit.features.runs import classify_dataset
    from nlpkit.models.baseline import BaselineConfig, train_baseline
    from nlpkit.topics.apply import apply_topics
    from nlpkit.topics.classifier import load_topic_classifier

    root = tmp_path_factory.mktemp("ui")
    store = Store(root / "data")
    subset = root / "korean_news.jsonl.gz"
    _korean_news_subset(shared_data / "korean_news" / "articles.jsonl.gz", subset)
    rebuild(store, "korean_news", str(subset))
    _scrape(store, shared_data / "article_extraction_dev" / "html", "saved pages")
    naver = root / "naver"
    naver.mkdir()
    for name in NAVER_ARTICLES:
        shutil.copy(shared_data / "korean_news_html" / name, naver / name)
    _scrape(store, naver, "saved Naver pages")
    build_features(store, "korean_news", BuildOptions(tokenizer="regex", k_values=(8,), pca_components=10))
    build_features(store, "articles", BuildOptions(tokenizer="regex", k_values=(3,), pca_components=10))
    classify_dataset(store, "korean_news", ClassifyOptions(folds=2))  # one model_runs row with a confusion matrix
    train_baseline(store, "korean_news", BaselineConfig(ngram_max=1, c_grid=(8.0,)))
    apply_topics(store, load_topic_classifier(store, "baseline:korean_news"))
    return store


@pytest.fixture(scope="session")
def rnn_model(ui_store: Store) -> Path:
    """A small BiLSTM topic classifier trained on the subset, saved under the store (its run in model_runs)."""
    pytest.importorskip("torch", reason="the RNN classifier needs torch: pip install 'nlpkit[rnn]'")
    from nlpkit.datasets.labels import int_label_names
    from nlpkit.rnn.classify import train_classifier
    from nlpkit.rnn.data import load_labelled

    splits = load_labelled(ui_store, "korean_news", label_names=int_label_names(ui_store, "korean_news"))
    out = ui_store.root / "models" / "news_rnn"
    train_classifier(splits, out=out, source="korean_news", store=ui_store, embed_dim=16, hidden_size=16,
                     max_len=64, min_freq=1, epochs=1, device="cpu")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_ui(store: Store, ready_path: str = "/sql") -> Iterator[str]:
    """`nlpkit ui` started as a user would, on a free port of 127.0.0.1, over ``store``; its URL until stopped."""
    port = free_port()
    env = {**os.environ, "NLPKIT_DATA_DIR": str(store.root), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "nlpkit.cli", "ui", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + ready_path, timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"nlpkit ui did not start on port {port}: {out[-2000:]}")
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def ui_url(ui_store: Store) -> Iterator[str]:
    """`nlpkit ui` over the shared UI store; stopped after the session."""
    with running_ui(ui_store) as url:
        yield url


@pytest.fixture(scope="session")
def client(ui_store: Store) -> Iterator[object]:
    """One in-process app over the store for every HTTP test (its caches fill once, as a running app's do)."""
    from starlette.testclient import TestClient

    from nlpkit.ui.app import create_app

    with TestClient(create_app(ui_store, warm=False), base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Headless Chromium (Debian's chromium + chromium-driver; no browser download)."""
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("chromium and chromedriver are not installed: apt-get install -y chromium chromium-driver "
                    "fonts-noto-cjk (.ci/run installs them)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed: pip install 'nlpkit[ui]'")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
