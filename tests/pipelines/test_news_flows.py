"""ingest_news -> features-news on real saved news pages, run the way `nlpkit run all` runs them:
settings passed as an object (never the environment), rows recorded, a second ingest that stores
nothing new skips itself and features-news, and each run publishes a markdown artifact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nlpkit.flowspec import run_flows
from nlpkit.settings import load_settings
from nlpkit.store import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_ingest_then_features_then_nothing_new(shared_data: Path, tmp_path: Path, prefect_harness: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    for f in sorted((shared_data / "article_extraction_dev" / "html").iterdir())[:30]:
        shutil.copy(f, pages / f.name)
    (tmp_path / "flows.yaml").write_text(
        "data_dir: data\nnews:\n  sources:\n"
        f"    - {{name: saved, kind: directory, path: {pages}, outlet: saved pages, language: auto}}\n"
        "flows:\n"
        f"  - {{name: ingest_news, entrypoint: pipelines/news.py:ingest_news}}\n"
        f"  - {{name: features-news, entrypoint: pipelines/features.py:features_flow,"
        " parameters: {dataset: articles, k: 3, k_values: [2, 3]}, depends_on: [ingest_news]}\n",
        encoding="utf-8")
    monkeypatch.setenv("NLPKIT_DATA_DIR", str(tmp_path / "env-data"))  # a flow reading the env would write here
    cfg = load_settings(tmp_path / "flows.yaml", {})
    st = Store(cfg.data_dir)

    first = run_flows(cfg.flows, REPO, st, settings=cfg)
    assert [(r.flow, r.state) for r in first] == [("ingest_news", "completed"), ("features-news", "completed")], first
    stored = first[0].rows
    assert stored and stored == st.read_appended("articles").num_rows  # rows = articles stored (was blank)
    assert first[1].rows and first[1].value["report"]
    assert not (tmp_path / "env-data").exists()
    built = st.latest("features_articles").version

    second = run_flows(cfg.flows, REPO, st, settings=cfg)
    assert [(r.flow, r.state) for r in second] == [("ingest_news", "skipped"), ("features-news", "skipped")]
    assert second[0].error == "skipped: no new articles" and second[0].rows == 0
    assert st.latest("features_articles").version == built  # no rebuild
    # features alone (what `serve` fires every 30 s) does no work either when no article changed
    from pipelines.features import features_flow

    again = features_flow(dataset="articles", k=3, k_values=[2, 3], settings=cfg)
    assert again["skipped"] == "no new articles" and st.latest("features_articles").version == built
    runs = st.read_appended("runs").to_pylist()
    assert [(r["flow"], r["state"], r["trigger"]) for r in runs] == [
        ("ingest_news", "completed", "manual"), ("features-news", "completed", "upstream: ingest_news"),
        ("ingest_news", "skipped", "manual"), ("features-news", "skipped", "upstream: ingest_news")]

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["nlpkit-ingest-news"])))
    texts = [a.data for a in arts]
    assert any(f"**stored**: {stored:,}" in t for t in texts), texts
    assert any("**skipped**: no new articles" in t for t in texts), texts
