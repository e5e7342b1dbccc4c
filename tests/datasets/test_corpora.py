"""Korean and LM corpora from the real shared files: counts, splits, columns, rejects, sources."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute  # noqa: F401
import pytest

from nlpkit.datasets.registry import BUILDERS, get_builder, rebuild, source_for
from nlpkit.datasets.sources import read_members, stratified_split
from nlpkit.errors import ConfigError, SourceError
from nlpkit.store import Catalog, Store

# dataset -> (path under shared data, kept rows, rejected, split counts)
REAL = {
    "nsmc": ("nsmc", 199_992, 8, {"train": 134_995, "valid": 15_000, "test": 49_997}),
    "korean_news": ("korean_news/articles.jsonl.gz", 1_599, 1, {"train": 1_279, "valid": 160, "test": 160}),
    "hate_speech": ("korean_hate_speech", 8_367, 0, {"train": 7_106, "valid": 790, "test": 471}),
    "intent_3i4k": ("korean_intent_3i4k", 61_255, 0, {"train": 49_621, "valid": 5_513, "test": 6_121}),
    "korsts": ("kornlu", 8_628, 0, {"train": 5_749, "valid": 1_500, "test": 1_379}),
    "lm_ptb": ("lm", 49_199, 0, {"train": 42_068, "valid": 3_370, "test": 3_761}),
}


@pytest.mark.parametrize("name", list(REAL))
def test_real_corpus_counts_and_standard_columns(name: str, store: Store, shared_data: Path) -> None:
    rel, kept, rejected, splits = REAL[name]
    info = rebuild(store, name, str(shared_data / rel))
    counts = info.manifest["counts"]
    assert (counts["kept"], counts["rejected"]) == (kept, rejected)
    assert {s: counts[s] for s in splits} == splits
    table = store.read(name)
    assert {"id", "text", "split"} <= set(table.column_names)
    ids = table["id"].to_pylist()
    assert len(set(ids)) == len(ids) == kept
    if name != "lm_ptb":
        assert "label" in table.column_names and table["label"].null_count == 0
    assert info.manifest["split_note"]


def test_nsmc_is_the_official_split_with_valid_carved_from_train(store: Store, shared_data: Path) -> None:
    info = rebuild(store, "nsmc", str(shared_data / "nsmc"))
    assert info.manifest["split_note"].startswith("official split")
    test = store.read("nsmc").filter(pa.compute.equal(store.read("nsmc")["split"], "test"))
    with zipfile.ZipFile(shared_data / "nsmc" / "ratings_test.zip") as zf:  # test is the official file, row for row
        official = [line.split("\t")[0] for line in zf.read("ratings_test.txt").decode().splitlines()[1:]]
    assert set(test["id"].to_pylist()) <= set(official) and len(official) - test.num_rows == 3
    _, rows = Catalog(store).query("SELECT split, avg(label) FROM nsmc WHERE split <> 'test' GROUP BY 1")
    ratios = dict(rows)
    assert abs(ratios["train"] - ratios["valid"]) < 0.002  # stratified
    rejects = store.read("nsmc", "rejects").to_pylist()
    assert {r["reason"] for r in rejects} == {"empty_text"} and len(rejects) == 8


def test_nsmc_reads_txt_gz_and_zip_files_alike(store: Store, shared_data: Path, tmp_path: Path) -> None:
    src = tmp_path / "nsmc"
    src.mkdir()
    for name in ("ratings_train", "ratings_test"):
        with zipfile.ZipFile(shared_data / "nsmc" / f"{name}.zip") as zf:
            lines = zf.read(f"{name}.txt").decode().split("\n")[:2001]
        data = ("\n".join(lines) + "\n").encode()
        if name == "ratings_train":
            (src / f"{name}.txt.gz").write_bytes(gzip.compress(data))
        else:
            (src / f"{name}.txt").write_bytes(data)
    info = rebuild(store, "nsmc", str(src), valid_fraction=0.2)
    c = info.manifest["counts"]
    assert (c["train"] + c["valid"], c["test"]) == (2_000, 2_000) and c["valid"] == 400


def test_nsmc_refuses_the_test_file_alone(store: Store, shared_data: Path) -> None:
    with pytest.raises(SourceError, match=r"NSMC needs both official files, missing ratings_train.txt .*shared/data/nsmc"):
        rebuild(store, "nsmc", str(shared_data / "nsmc" / "ratings_test.zip"))
    assert "nsmc" not in store.datasets()


def test_nsmc_downloads_both_official_files(store: Store, httpserver, tmp_path: Path) -> None:
    body = "id\tdocument\tlabel\n" + "".join(f"{i}\t리뷰 {i}\t{i % 2}\n" for i in range(40))
    for name in ("ratings_train.txt", "ratings_test.txt"):
        httpserver.expect_request(f"/e9t/nsmc/master/{name}").respond_with_data(body.encode())
    url = httpserver.url_for("/e9t/nsmc/master/")
    info = rebuild(store, "nsmc", url, cache_dir=tmp_path / "cache")
    c = info.manifest["counts"]
    assert (c["train"] + c["valid"], c["test"]) == (40, 40) and info.manifest["source"] == url


def test_news_tree_and_jsonl_give_the_same_articles(store: Store, shared_data: Path) -> None:
    rebuild(store, "korean_news", str(shared_data / "korean_news" / "articles.jsonl.gz"))
    a = store.read("korean_news").sort_by("id")
    rebuild(store, "korean_news", str(shared_data / "korean_news" / "newsData.tar.gz"))
    b = store.read("korean_news").sort_by("id")
    assert a.select(["id", "title", "text", "label", "split"]).equals(b.select(["id", "title", "text", "label", "split"]))
    assert store.read("korean_news", "rejects")["item"].to_pylist() == ["0001NewsData"]
    assert Counter(a["category"].to_pylist())["스포츠"] == 200
    from nlpkit.datasets.labels import label_names

    names = label_names(store, "korean_news")  # stored with the version, the same as the category column
    assert store.latest("korean_news").manifest["parameters"]["label_names"] == names
    assert all(names[str(lab)] == cat for lab, cat in zip(a["label"].to_pylist(), a["category"].to_pylist()))


def test_hate_speech_labels_and_titles(store: Store, shared_data: Path) -> None:
    rebuild(store, "hate_speech", str(shared_data / "korean_hate_speech"))
    t = store.read("hate_speech")
    test = [r for r in t.to_pylist() if r["split"] == "test"]
    assert Counter(r["hate"] for r in test) == {"offensive": 189, "none": 160, "hate": 122}
    assert all(r["label"] == {"none": 0, "offensive": 1, "hate": 2}[r["hate"]] for r in test)
    assert all(r["news_title"] for r in test)


def test_tinyshakespeare_valid_is_the_last_tenth(store: Store, shared_data: Path) -> None:
    raw = (shared_data / "lm" / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")
    rebuild(store, "lm_tinyshakespeare", str(shared_data / "lm"))
    rows = sorted(store.read("lm_tinyshakespeare").to_pylist(), key=lambda r: r["line"])
    assert "\n".join(r["text"] for r in rows) == raw
    valid = "\n".join(r["text"] for r in rows if r["split"] == "valid")
    assert rows[0]["split"] == "train"
    assert abs(len(valid) / len(raw) - 0.1) < 0.001
    first_valid = next(i for i, r in enumerate(rows) if r["split"] == "valid")
    assert all(r["split"] == "valid" for r in rows[first_valid:])


def test_malformed_lines_are_rejected_and_the_rest_kept(store: Store, tmp_path: Path) -> None:
    bad = "id\tdocument\tlabel\n1\t좋아요\t1\n2\t별로\t7\n3\t탭이\t없는\t줄\n4\t재밌다\t1\n5\t최악\t0\n6\t굿\t0\n7\t\t1\n"
    (tmp_path / "ratings_test.txt").write_text(bad, encoding="utf-8")
    (tmp_path / "ratings_train.txt").write_text("id\tdocument\tlabel\n" + "".join(
        f"{i}\t리뷰 {i}\t{i % 2}\n" for i in range(100, 120)), encoding="utf-8")
    info = rebuild(store, "nsmc", str(tmp_path))
    reasons = {r["item"]: r["reason"] for r in store.read("nsmc", "rejects").to_pylist()}
    assert reasons == {"ratings_test.txt:3": "bad_value", "ratings_test.txt:4": "bad_line", "ratings_test.txt:8": "empty_text"}
    assert info.manifest["counts"]["test"] == 4


def test_registry_errors_and_source_resolution(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown dataset 'ynat'; rebuildable datasets: imdb, nsmc"):
        get_builder("ynat")
    assert source_for("nsmc", {}) == "https://raw.githubusercontent.com/e9t/nsmc/master/"
    assert source_for("lm_ptb", {"lm": "/data/lm"}) == "/data/lm"
    assert source_for("lm_ptb", {"lm": "/data/lm", "lm_ptb": "/x"}) == "/x"
    # lm_korean_news is built from the store's own news (korean_news + articles), not downloaded
    assert all(b.default_source and b.default_source.startswith("https://") for b in BUILDERS.values()
               if b.name != "lm_korean_news")
    assert BUILDERS["lm_korean_news"].default_source == "store"
    with pytest.raises(SourceError, match=r"missing labeled/dev.tsv; expected a directory, tarball or zip"):
        (tmp_path / "labeled").mkdir()
        (tmp_path / "labeled" / "train.tsv").write_text("comments\tcontain_gender_bias\tbias\thate\n", encoding="utf-8")
        rebuild(store, "hate_speech", str(tmp_path))
    with pytest.raises(ConfigError, match="does not take option"):
        rebuild(store, "korsts", str(tmp_path), valid_fraction=0.2)


def test_read_members_from_zip_by_path_suffix(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("repo-abc/KorSTS/sts-dev.tsv", "x")
        zf.writestr("repo-abc/other/sts-dev.tsv.bak", "y")
    (tmp_path / "a.zip").write_bytes(buf.getvalue())
    assert read_members(tmp_path / "a.zip", ["KorSTS/sts-dev.tsv"]) == {"KorSTS/sts-dev.tsv": b"x"}


def test_stratified_split_is_seeded_and_exact() -> None:
    labels = [0] * 50 + [1] * 30
    a = stratified_split(labels, [0.8, 0.1, 0.1], ["train", "valid", "test"], seed=1)
    assert a == stratified_split(labels, [0.8, 0.1, 0.1], ["train", "valid", "test"], seed=1)
    assert a != stratified_split(labels, [0.8, 0.1, 0.1], ["train", "valid", "test"], seed=2)
    assert Counter(zip(labels, a)) == {(0, "train"): 40, (0, "valid"): 5, (0, "test"): 5,
                                       (1, "train"): 24, (1, "valid"): 3, (1, "test"): 3}
    with pytest.raises(ValueError, match="sum to 1"):
        stratified_split(labels, [0.8, 0.1], ["train", "valid"], seed=0)
