"""The features flow end to end in Prefect's ephemeral mode, on a real slice of Korean news."""

from __future__ import annotations

from pathlib import Path

from nlpkit.datasets.importer import ImportOptions, import_corpus
from nlpkit.flowspec import check_flow
from nlpkit.settings import load_settings
from nlpkit.store import Store
from tests.features.conftest import write_news_slice

ROOT = Path(__file__).resolve().parents[2]


def test_flow_runs_every_step_and_writes_the_report(prefect_harness, news_rows, tmp_path):
    from pipelines.features import features_flow

    store = Store(tmp_path / "data")
    import_corpus(store, "news", write_news_slice(news_rows, tmp_path / "news.jsonl", 6),
                  ImportOptions(label_col="label", id_col="id"))
    out = features_flow(dataset="news", data_dir=str(store.root), k=3, k_values=[3, 5])
    assert out["rows"] == 48 and out["tokenized_now"] == 48
    assert Path(out["report"]).is_file() and Path(out["report"]).name == "index.html"
    assert set(out["versions"]) == {"features_news"}  # one commit pins every feature table
    again = features_flow(dataset="news", data_dir=str(store.root), k=3, k_values=[3, 5])
    assert again["tokenized_now"] == 0


def test_flow_skips_while_no_news_was_fetched(prefect_harness, tmp_path):
    from pipelines.features import features_flow

    out = features_flow(dataset="articles", data_dir=str(tmp_path / "empty"))
    assert out["rows"] == 0 and "articles" in out["skipped"]


def test_declared_in_flows_yaml_after_news_ingestion():
    settings = load_settings(ROOT / "flows.yaml", {})
    spec = settings.flow("features-news")
    assert spec.depends_on == ["ingest_news"]
    assert check_flow(spec, ROOT) == []
