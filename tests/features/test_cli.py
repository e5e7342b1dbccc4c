from __future__ import annotations

from typer.testing import CliRunner

from nlpkit.cli import app
from nlpkit.datasets.importer import ImportOptions, import_corpus
from nlpkit.store import Store
from tests.features.conftest import write_news_slice

runner = CliRunner()


def test_build_similar_report_classify_commands(news_rows, tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("NLPKIT_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)
    import nlpkit.cli._common as common

    monkeypatch.setattr(common, "_state", {})
    import_corpus(Store(data), "news", write_news_slice(news_rows, tmp_path / "n.jsonl", 5),
                  ImportOptions(label_col="label", id_col="id"))
    res = runner.invoke(app, ["features", "build", "news", "--k", "3"])
    assert res.exit_code == 0, res.output
    assert "40 documents" in res.output and "report:" in res.output
    doc = Store(data).read("news").column("id")[0].as_py()
    res = runner.invoke(app, ["features", "similar", "--dataset", "news", "--id", doc, "--k", "2"])
    assert res.exit_code == 0 and "2 neighbours" in res.output
    res = runner.invoke(app, ["features", "similar", "--dataset", "news", "--id", doc, "--measure", "jaccard", "--k", "2"])
    assert res.exit_code == 0 and "2 neighbours" in res.output, res.output
    res = runner.invoke(app, ["features", "similar", "--dataset", "news", "--id", "no-such-id"])
    assert res.exit_code == 2 and "unknown id 'no-such-id'" in res.output
    res = runner.invoke(app, ["features", "similar", "--dataset", "nothing", "--text", "x"])
    assert res.exit_code == 2 and "nlpkit features build nothing" in res.output
    res = runner.invoke(app, ["features", "similar", "--dataset", "news"])
    assert res.exit_code == 2 and "exactly one of --id" in res.output
    res = runner.invoke(app, ["features", "classify", "news", "--model", "svm", "--folds", "2"])
    assert res.exit_code == 0 and "accuracy" in res.output, res.output
    res = runner.invoke(app, ["features", "classify", "news", "--model", "forest"])
    assert res.exit_code == 2 and "choose one of softmax, svm, mlp" in res.output
    res = runner.invoke(app, ["features", "report", "news"])
    assert res.exit_code == 0 and "index.html" in res.output


def test_saved_news_pages_scrape_build_and_report(shared_data, tmp_path, monkeypatch):
    """`make run`'s offline path: NLPKIT_NEWS_DIRECTORY adds the 60 saved real pages as a source;
    the articles table they fill builds features and a report (its LDA has too few held-out
    documents per section for a separation number: the report says n/a instead of failing)."""
    data = tmp_path / "data"
    monkeypatch.setenv("NLPKIT_DATA_DIR", str(data))
    monkeypatch.setenv("NLPKIT_NEWS_DIRECTORY", str(shared_data / "article_extraction_dev" / "html"))
    monkeypatch.chdir(tmp_path)
    import nlpkit.cli._common as common

    monkeypatch.setattr(common, "_state", {})
    res = runner.invoke(app, ["news", "scrape", "--source", "local_pages"])
    assert res.exit_code == 0 and "60 stored" in res.output, res.output
    res = runner.invoke(app, ["features", "build", "articles", "--k", "3"])
    assert res.exit_code == 0 and "report:" in res.output, res.output
    html = (data / "reports" / "articles" / "index.html").read_text(encoding="utf-8")
    assert "<img" in html and "nan" not in html.lower().replace("nanum", "")
