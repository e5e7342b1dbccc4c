"""The commands, the hourly flow, and the shipped default sources (unreachable offline)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from nlpkit.news.ingest import ingest
from nlpkit.news.newsstore import NewsStore
from nlpkit.settings import load_settings
from nlpkit.store import Store
from tests.news.helpers import use_directory_flows

ROOT = Path(__file__).resolve().parents[2]


def test_default_sources_fail_per_source_with_a_network_error(store: Store) -> None:
    """The shipped flows.yaml sources, with the network refusing every connection as it does here."""
    news = load_settings(ROOT / "flows.yaml").news
    kinds = {s.kind for s in news.sources}
    assert {"rss", "sitemap", "section"} <= kinds
    assert {s.language for s in news.sources} == {"ko", "en"}

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"[Errno -2] Name or service not known: {request.url.host}", request=request)

    fast = news.model_copy(update={"fetch": news.fetch.model_copy(update={"retries": 0})})
    report = ingest(store, fast, fast.sources, transport=httpx.MockTransport(refuse))
    assert set(report.sources_failed) == {s.name for s in news.sources}
    rows = store.read_appended("fetch_log").to_pylist()
    assert {r["source"] for r in rows} == {s.name for s in news.sources}
    for r in rows:
        assert r["error_kind"] == "robots_unavailable" and not r["final"]  # tried again next run
        assert "robots.txt unreachable (connect_error)" in r["message"] and "Name or service not known" in r["message"]


@pytest.fixture
def cli_env(tmp_path: Path, naver_html: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_directory_flows(tmp_path, monkeypatch, {"name": "naver_archive", "path": str(naver_html), "outlet": "네이버 뉴스",
                                                "language": "ko"}, data_dir=tmp_path / "data", extract_workers=1)
    return tmp_path


def test_scrape_articles_reextract_commands(cli_env: Path) -> None:
    from nlpkit.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["news", "scrape", "--source", "naver_archive"])
    assert res.exit_code == 0, res.output
    assert "2 stored" in res.output and "no_article" in res.output
    res = runner.invoke(app, ["news", "articles", "--since", "2023-01-01"])
    assert res.exit_code == 0, res.output
    assert res.output.rstrip().endswith("1 articles")
    res = runner.invoke(app, ["news", "articles", "--source", "naver_archive"])
    assert res.output.rstrip().endswith("2 articles")
    res = runner.invoke(app, ["query", "SELECT count(*) AS n FROM articles WHERE published_local LIKE '%+09:00'"])
    assert res.exit_code == 0 and "│ 2 " in res.output.replace("┃", "│")
    res = runner.invoke(app, ["reextract"])
    assert res.exit_code == 0, res.output
    assert "2 articles, 0 changed" in res.output
    res = runner.invoke(app, ["news", "scrape", "--source", "nope"])
    assert res.exit_code == 2 and "unknown news source" in res.output
    res = runner.invoke(app, ["news", "articles", "--since", "yesterday"])
    assert res.exit_code == 2 and "expected an ISO date" in res.output


def test_ingest_news_flow_runs_under_prefect(cli_env: Path, prefect_harness: None) -> None:
    from nlpkit.flowspec import check_parameters, resolve_entrypoint

    spec = load_settings(ROOT / "flows.yaml").flow("ingest_news")
    assert spec.schedule is not None and spec.schedule.cron == "0 * * * *"
    flow = resolve_entrypoint(spec.entrypoint, ROOT)
    check_parameters(spec, flow)
    result = flow(sources=["naver_archive"], settings=str(cli_env / "flows.yaml"))  # settings are passed, not read from env
    assert result["stored"] == 2 and result["kinds"]["no_article"] == 3
    assert NewsStore(Store(cli_env / "data")).articles().num_rows == 2
