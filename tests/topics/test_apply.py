"""Topics after each ingest: only new articles are classified, English ones are recorded as skipped."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpkit.datasets.registry import BUILDERS
from nlpkit.errors import ModelError
from nlpkit.news.ingest import ingest
from nlpkit.news.sources import SourceSpec
from nlpkit.store import Store
from nlpkit.topics import ARTICLE_TOPICS, apply_topics, load_topic_classifier
from tests.news.helpers import news_settings, use_directory_flows

ROOT = Path(__file__).resolve().parents[2]
NAMES = set(BUILDERS["korean_news"].label_names.values())
EDAILY, HERALD = "naver_article_edaily_2022-09-14_utf8.html", "naver_article_heraldcorp_2023-09-07_utf8.html"


def _ingest(store: Store, folder: Path) -> int:
    spec = SourceSpec(name="saved", kind="directory", path=folder, outlet="saved pages")
    return ingest(store, news_settings([spec]), [spec]).stored


def _topics(store: Store) -> list[dict]:
    return store.read_appended(ARTICLE_TOPICS).to_pylist()


def test_label_names_everywhere(news_store: Store) -> None:
    clf = load_topic_classifier(news_store, "baseline:korean_news")
    assert (clf.model, clf.version) == ("tfidf_lr:korean_news", news_store.latest("korean_news_baseline").version)
    preds = clf.predict(["삼성전자 반도체 수출이 늘면서 코스피 지수가 상승하고 원/달러 환율은 하락했다.",
                         "손흥민이 결승골을 넣으며 토트넘이 리그 경기에서 승리했다. 감독은 선수들을 칭찬했다."])
    assert [p.name for p in preds] == ["경제", "스포츠"]
    assert all(BUILDERS["korean_news"].label_names[p.label] == p.name and 0 < p.probability <= 1 for p in preds)


def test_second_run_classifies_only_newly_ingested_articles(news_store: Store, shared_data: Path,
                                                           tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    shutil.copytree(news_store.root / "datasets", store.root / "datasets")  # the corpus + baseline, not the tables
    clf = load_topic_classifier(store, "baseline:korean_news")
    assert apply_topics(store, clf).written == 0  # nothing ingested yet: no table, no failure

    pages = tmp_path / "pages"
    pages.mkdir()
    naver = shared_data / "korean_news_html"
    shutil.copy(naver / EDAILY, pages / EDAILY)
    assert _ingest(store, pages) == 1
    first = apply_topics(store, clf)
    assert (first.articles, first.predicted, first.skipped) == (1, 1, {})
    rows = _topics(store)
    assert len(rows) == 1 and rows[0]["label_name"] in NAMES and rows[0]["skipped"] is None
    first_id = rows[0]["article_id"]

    # the next ingest brings one more Korean article and two English pages
    shutil.copy(naver / HERALD, pages / HERALD)
    dev = sorted((shared_data / "article_extraction_dev" / "html").glob("*.html.gz"))[:2]
    for p in dev:
        (pages / p.name.removesuffix(".gz")).write_bytes(gzip.decompress(p.read_bytes()))
    assert _ingest(store, pages) == 3
    second = apply_topics(store, clf)
    assert (second.articles, second.already_done, second.predicted) == (4, 1, 1)
    assert second.skipped == {"language=en": 2}
    rows = _topics(store)
    assert len(rows) == 4 and [r["article_id"] for r in rows].count(first_id) == 1
    new = [r for r in rows[1:] if r["skipped"] is None]
    assert len(new) == 1 and new[0]["label_name"] in NAMES and new[0]["label"] is not None
    english = [r for r in rows if r["skipped"]]
    assert {r["skipped"] for r in english} == {"language=en"}
    assert all(r["label"] is None and r["label_name"] is None and r["probability"] is None for r in english)
    assert {r["predicted_at"] for r in rows[1:]} != {rows[0]["predicted_at"]}

    assert apply_topics(store, clf).written == 0  # nothing new: nothing written, skipped ones not retried
    assert len(_topics(store)) == 4


def test_a_new_model_version_classifies_everything_once(news_store: Store, tmp_path: Path) -> None:
    import dataclasses

    store = Store(tmp_path / "data")
    shutil.copytree(news_store.root / "datasets", store.root / "datasets")
    from nlpkit.news.newsstore import ARTICLE_SCHEMA
    import pyarrow as pa

    body = store.read("korean_news", columns=["text"])["text"].to_pylist()[:3]
    rows = [{n: None for n in ARTICLE_SCHEMA.names} | {"canonical_url": f"https://x.kr/{i}", "body": b, "language": "ko"}
            for i, b in enumerate(body)] + [{n: None for n in ARTICLE_SCHEMA.names} | {
                "canonical_url": "https://x.kr/empty", "body": "  ", "language": "ko"}]
    store.append("articles", pa.Table.from_pylist(rows, schema=ARTICLE_SCHEMA))
    clf = load_topic_classifier(store, "baseline:korean_news")
    report = apply_topics(store, clf)
    assert (report.predicted, report.skipped) == (3, {"empty_body": 1})
    newer = dataclasses.replace(clf, version="v999")
    assert apply_topics(store, newer).predicted == 3
    assert apply_topics(store, clf).written == apply_topics(store, newer).written == 0


@pytest.mark.parametrize(("model", "message"), [
    ("baseline:nsmc", "no baseline model for dataset 'nsmc'"),
    ("models/nowhere", "expected 'baseline:<dataset>'"),
])
def test_bad_model_is_one_line_error(news_store: Store, model: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        load_topic_classifier(news_store, model)


@pytest.fixture
def cli_env(news_store: Store, tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    shutil.copytree(news_store.root / "datasets", data / "datasets")
    (tmp_path / "pages").mkdir()
    shutil.copy(shared_data / "korean_news_html" / EDAILY, tmp_path / "pages" / EDAILY)
    use_directory_flows(tmp_path, monkeypatch, {"name": "saved", "path": str(tmp_path / "pages"), "outlet": "n"},
                        data_dir=data, extract_workers=0)
    return tmp_path


def test_cli_apply_predict_and_flow(cli_env: Path, shared_data: Path, prefect_harness: None) -> None:
    from nlpkit.cli import app
    from nlpkit.flowspec import check_parameters, resolve_entrypoint
    from nlpkit.settings import load_settings

    runner = CliRunner()
    assert runner.invoke(app, ["news", "scrape", "--source", "saved"]).exit_code == 0
    res = runner.invoke(app, ["topics", "apply"])
    assert res.exit_code == 0, res.output
    assert "1 predicted" in res.output and "0 already done" in res.output
    res = runner.invoke(app, ["topics", "predict", "국회 본회의에서 여야가 예산안 처리를 두고 대립했다. 야당 원내대표는 정부를 비판했다."])
    header, line = res.output.splitlines()[:2]
    assert res.exit_code == 0 and header.split("\t") == ["topic", "label", "probability", "text"], res.output
    assert line.split("\t")[:2] == ["정치", "0"], res.output
    res = runner.invoke(app, ["topics", "apply", "--model", "nowhere"])
    assert res.exit_code == 2 and res.output.startswith("error: ") and len(res.output.strip().splitlines()) == 1

    # the flow after the next ingest: the same library call, only the new article
    shutil.copy(shared_data / "korean_news_html" / HERALD, cli_env / "pages" / HERALD)
    assert runner.invoke(app, ["news", "scrape", "--source", "saved"]).exit_code == 0
    spec = load_settings(ROOT / "flows.yaml").flow("topics-news")
    assert "ingest_news" in spec.depends_on
    flow = resolve_entrypoint(spec.entrypoint, ROOT)
    check_parameters(spec, flow)
    result = flow(**spec.parameters, data_dir=str(cli_env / "data"))
    assert (result["predicted"], result["already_done"], result["rows"]) == (1, 1, 1)
    assert "skipped" not in result  # a run that classified something is a completed run, whatever else it skipped
    res = runner.invoke(app, ["query", f"SELECT count(DISTINCT article_id) AS n FROM {ARTICLE_TOPICS}"])
    assert res.exit_code == 0 and "│ 2 " in res.output.replace("┃", "│"), res.output


def test_flow_skips_a_store_without_the_corpus(tmp_path: Path, prefect_harness: None) -> None:
    from pipelines.topics import topics_flow

    result = topics_flow(data_dir=str(tmp_path / "data"))
    assert result["rows"] == 0 and "korean_news" in result["skipped"]


def test_cv_refuses_fewer_than_two_folds_and_formats_the_spread(news_store: Store) -> None:
    from nlpkit.errors import DatasetError
    from nlpkit.topics import CVResult, cross_validate_baseline

    with pytest.raises(DatasetError, match="folds must be >= 2"):
        cross_validate_baseline(news_store, "korean_news", folds=1)
    r = CVResult("korean_news", "v1", "tfidf_lr", (0.8, 0.9), 10)
    assert str(r).startswith("tfidf_lr on korean_news v1: 2-fold accuracy 0.8500 +/- 0.0707")
