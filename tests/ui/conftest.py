"""One real store (korean_news + the 60 saved news pages, features built), the app on a free port,
and a headless Chromium from Debian's packages driven by Selenium."""

from __future__ import annotations

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


def _cli(args: list[str], data_dir: Path, **env: str) -> subprocess.Popen[str]:
    e = {**os.environ, "NLPKIT_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), **env}
    e.pop("NLPKIT_FLOWS", None)
    return subprocess.Popen([sys.executable, "-m", "nlpkit.cli", *args], cwd=ROOT, env=e, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="session")
def ui_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """korean_news (1,599 real labelled articles) and the scraped 60 real English news pages, with features
    and one cross-validated classifier run.

    The regex tokenizer and a short k range keep the build to seconds; the app does not care
    which tokenizer built the index (queries use the same spec).
    """
    from nlpkit.features.build import BuildOptions, build_features

    data = tmp_path_factory.mktemp("ui") / "data"
    # the dataset and the news tables are separate; both imports run at once
    procs = [_cli(["rebuild", "korean_news", "--source", str(shared_data / "korean_news" / "articles.jsonl.gz"),
                   "--no-dependants"], data),
             _cli(["scrape", "--source", "local_pages"], data,
                  NLPKIT_NEWS_DIRECTORY=str(shared_data / "article_extraction_dev" / "html"))]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    store = Store(data)
    build_features(store, "korean_news", BuildOptions(tokenizer="regex", k_values=(8,), pca_components=10))
    build_features(store, "articles", BuildOptions(k_values=(3,), pca_components=10))
    from nlpkit.features.classify import ClassifyOptions
    from nlpkit.features.runs import classify_dataset

    classify_dataset(store, "korean_news", ClassifyOptions(folds=2))  # one model_runs row with a confusion matrix
    return store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def ui_url(ui_store: Store) -> Iterator[str]:
    """`nlpkit ui` started as a user would, on a free port of 127.0.0.1; stopped after the session."""
    port = free_port()
    env = {**os.environ, "NLPKIT_DATA_DIR": str(ui_store.root), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "nlpkit.cli", "ui", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/sql", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"nlpkit ui did not start on port {port}: {out[-2000:]}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


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
