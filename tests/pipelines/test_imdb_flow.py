"""The IMDB flow in Prefect's ephemeral mode on a small slice of real reviews, served over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug import Response

from nlpkit.datasets.imdb import sample_tarball
from nlpkit.models.baseline import MODEL_RUNS
from nlpkit.store import Catalog, Store


@pytest.fixture(scope="module")
def imdb_slice(imdb_sample) -> Path:
    return imdb_sample(150)


@pytest.mark.timeout(300)
def test_imdb_flow_builds_trains_and_evaluates_after_a_failed_download(
    prefect_harness: None, imdb_slice: Path, tmp_path: Path, httpserver
) -> None:
    from pipelines.imdb import imdb_flow

    httpserver.expect_ordered_request("/aclImdb_v1.tar.gz").respond_with_response(Response("busy", status=503))
    httpserver.expect_ordered_request("/aclImdb_v1.tar.gz").respond_with_data(imdb_slice.read_bytes())
    data_dir = tmp_path / "data"
    result = imdb_flow(source=httpserver.url_for("/aclImdb_v1.tar.gz"), data_dir=str(data_dir), c_grid=[4.0, 32.0])

    assert len(httpserver.log) == 2  # the 503 was retried by the task
    assert result["version"] == "v1" and result["rows"] == 750 and result["rejected"] == 0
    assert result["c"] in (4.0, 32.0)
    assert result["reloaded_test_accuracy"] == pytest.approx(result["test_accuracy"])
    assert result["test_accuracy"] > 0.7  # 270 training reviews per class; the full set reaches ~0.90
    store = Store(data_dir)
    runs = store.read_appended(MODEL_RUNS).to_pylist()
    assert [(r["dataset"], r["split"]) for r in runs] == [("imdb", "valid"), ("imdb", "test")]
    _, rows = Catalog(store).query("SELECT split, count(*) FROM imdb GROUP BY 1 ORDER BY 1")
    assert rows == [("test", 300), ("train", 270), ("unsup", 150), ("valid", 30)]


@pytest.mark.timeout(300)
def test_rerun_with_unchanged_source_is_served_from_prefect_cache(prefect_harness: None, imdb_sample,
                                                                  tmp_path: Path) -> None:
    from pipelines.imdb import imdb_flow

    imdb_slice = imdb_sample(40)  # four flow runs; caching needs no more reviews than this
    data_dir = str(tmp_path / "data")
    first = imdb_flow(source=str(imdb_slice), data_dir=data_dir, c_grid=[8.0])
    second = imdb_flow(source=str(imdb_slice), data_dir=data_dir, c_grid=[8.0])
    store = Store(tmp_path / "data")
    assert first["version"] == second["version"] == "v1"  # nothing rebuilt: same source bytes, same parameters
    assert second["skipped"].startswith("source unchanged") and second["rows"] == 0 and "skipped" not in first
    assert [v.version for v in store.versions("imdb_baseline")] == ["v1"]  # nor retrained
    third = imdb_flow(source=str(imdb_slice), data_dir=data_dir, c_grid=[8.0], refresh=True)
    assert third["version"] == "v2" and third["model_version"] == "v2"
    # a store changed behind the cache's back is noticed: the cached v2 is no longer latest after v3
    with store.write_version("imdb") as w:
        w.write(store.read("imdb"))
    fourth = imdb_flow(source=str(imdb_slice), data_dir=data_dir, c_grid=[8.0])
    assert fourth["version"] == "v4"


@pytest.mark.timeout(400)
def test_imdb_flow_is_rebuild_imdb_with_its_dependants(prefect_harness: None, imdb_slice: Path, tmp_path: Path,
                                                       shared_data: Path) -> None:
    """The flow makes `nlpkit rebuild imdb`'s call: the baseline and every token dataset follow the new version."""
    from nlpkit.settings import load_settings
    from nlpkit.tokenize.dataset import tokenize_dataset
    from pipelines.imdb import imdb_flow

    (tmp_path / "flows.yaml").write_text(f"data_dir: data\nnltk_data: {shared_data / 'nltk_data'}\n", encoding="utf-8")
    cfg = load_settings(tmp_path / "flows.yaml", {})  # an explicit settings object, no data_dir parameter
    first = imdb_flow(source=str(imdb_slice), c_grid=[8.0], settings=cfg)
    store = Store(tmp_path / "data")
    assert first["dependants"] and first["dependants"][0].startswith("imdb_baseline v1")
    tokens = tokenize_dataset(store, "imdb", "english", options={"nltk_data": str(shared_data / "nltk_data")})
    assert tokens.tokenized == 750
    # a changed source (one review dropped) -> new imdb version -> baseline retrained, tokens updated incrementally
    smaller = tmp_path / "smaller.tar.gz"
    sample_tarball(imdb_slice, smaller, per_folder=140)
    second = imdb_flow(source=str(smaller), c_grid=[8.0], settings=cfg)
    assert second["version"] == "v2" and "skipped" not in second
    deps = " | ".join(second["dependants"])
    assert "imdb_baseline v2" in deps and f"{tokens.out_name} " in deps and "dropped" in deps
    assert store.latest(tokens.out_name).manifest["parameters"]["source_version"] == "v2"
