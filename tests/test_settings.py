"""The typed settings: flows.yaml + environment, with errors naming file and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nlpkit.errors import ConfigError
from nlpkit.settings import IMDB_URL, load_settings

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "flows.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_project_flows_yaml_is_valid() -> None:
    s = load_settings(ROOT / "flows.yaml", {})
    assert s.sources["imdb"] == IMDB_URL


def test_environment_overrides(tmp_path: Path) -> None:
    p = write(tmp_path, "data_dir: somewhere\nsources: {imdb: http://example.org/x.tar.gz}\n")
    s = load_settings(p, {"NLPKIT_DATA_DIR": str(tmp_path / "d"), "NLPKIT_IMDB_SOURCE": "/local/imdb.tar.gz",
                          "NLPKIT_NSMC_SOURCE": "/local/nsmc.zip"})
    assert s.data_dir == (tmp_path / "d").resolve()
    assert s.source("imdb") == "/local/imdb.tar.gz"
    assert s.source("nsmc") == "/local/nsmc.zip"


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    p = write(tmp_path, "data_dri: x\n")
    with pytest.raises(ConfigError, match=r"(?s)flows\.yaml.*key 'data_dri': unknown key; allowed here: data_dir, "):
        load_settings(p, {})


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("java_heap_mb: lots\n", r"key 'java_heap_mb'.*integer.*'lots'"),
        ("flows: [{name: a, entrypoint: pipelines/a.py:a, schedule: {cron: 'every hour'}}]\n", r"key 'flows\.0\.schedule'.*invalid cron"),
        ("flows: [{name: a, entrypoint: pipelines/a.py:a, schedule: {interval: 5, timezone: Mars/Base}}]\n", r"unknown time zone 'Mars/Base'"),
        ("flows: [{name: a, entrypoint: nope}]\n", r"key 'flows\.0\.entrypoint'.*must look like"),
        ("flows: [{name: a, entrypoint: pipelines/a.py:a, depends_on: [b]}]\n", r"depends_on unknown flow\(s\): b"),
        ("flows: [{name: a, entrypoint: pipelines/a.py:a}, {name: a, entrypoint: pipelines/a.py:a}]\n", r"repeated: a"),
        ("- just a list\n", r"expected a mapping at the top level"),
        ("data_dir: [unclosed\n", r"not valid YAML"),
    ],
)
def test_bad_settings_are_clear_errors(tmp_path: Path, body: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        load_settings(write(tmp_path, body), {})


def test_missing_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found.*--flows"):
        load_settings(tmp_path / "nope.yaml", {})


def test_unknown_source_names_the_env_var() -> None:
    with pytest.raises(ConfigError, match="NLPKIT_WIKI_SOURCE"):
        load_settings(None, {}).source("wiki")


def test_import_nlpkit_does_not_import_prefect_or_torch() -> None:
    code = (
        "import sys, nlpkit, nlpkit.store, nlpkit.settings, nlpkit.cli; "
        "bad = [m for m in ('prefect', 'torch', 'jpype') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_news_directory_takes_several_folders(tmp_path: Path) -> None:
    """`make run` passes the English saved pages and the Naver article pages: one local_pages* source each."""
    import os

    a, b = tmp_path / "en", tmp_path / "ko"
    s = load_settings(ROOT / "flows.yaml", {"NLPKIT_NEWS_DIRECTORY": f"{a}{os.pathsep}{b}",
                                             "NLPKIT_DATA_DIR": str(tmp_path / "d")})
    local = [(src.name, str(src.path)) for src in s.news.sources if src.name.startswith("local_pages")]
    assert local == [("local_pages", str(a)), ("local_pages_2", str(b))]
    one = load_settings(ROOT / "flows.yaml", {"NLPKIT_NEWS_DIRECTORY": str(a), "NLPKIT_DATA_DIR": str(tmp_path)})
    assert [src.name for src in one.news.sources if src.name.startswith("local_pages")] == ["local_pages"]
    assert "korean_news_html" in (ROOT / "Makefile").read_text(encoding="utf-8")
