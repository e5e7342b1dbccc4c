"""IMDB rebuild: rejects on a synthetic tarball, sources (tarball, directory, URL), valid split, real counts."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pyarrow.compute as pc
import pytest

from nlpkit.datasets.imdb import ImdbOptions, build_imdb
from nlpkit.errors import SourceError
from nlpkit.store import Catalog, Store
from nlpkit.text.clean import TextCleaner

GOOD = {
    "aclImdb/train/pos/0_9.txt": "A <i>wonderful</i> film.<br /><br />I loved it!",
    "aclImdb/train/pos/1_10.txt": "Best movie of the year, 10/10.",
    "aclImdb/train/pos/2_7.txt": "Pretty good acting.",
    "aclImdb/train/neg/0_1.txt": "Awful. Just awful.",
    "aclImdb/train/neg/1_2.txt": "Boring plot<br />and bad jokes.",
    "aclImdb/train/neg/3_4.txt": "Not worth the ticket.",
    "aclImdb/test/pos/0_8.txt": "Great fun for the family.",
    "aclImdb/test/neg/0_3.txt": "Terrible ending.",
    "aclImdb/train/unsup/0_0.txt": "Saw it on TV last night.",
}
BAD = {  # member -> (bytes, expected reason)
    "aclImdb/train/neg/2_1.txt": (b"Caf\xe9 scene was bad", "not_utf8"),
    "aclImdb/test/pos/notes.txt": (b"no rating in this name", "no_rating_in_name"),
    "aclImdb/test/neg/5_3.txt": (b"  \n\t ", "empty_review"),
    "aclImdb/train/neg/7_9.txt": (b"a 9 in the neg folder", "rating_label_mismatch"),
    "aclImdb/test/unsup/1_0.txt": (b"unlabelled test review", "unexpected_location"),
}


def _write_tar(path: Path, files: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        readme = tarfile.TarInfo("aclImdb/README")
        readme.size = 6
        tar.addfile(readme, io.BytesIO(b"readme"))
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return path


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    files = {k: v.encode() for k, v in GOOD.items()} | {k: v for k, (v, _) in BAD.items()}
    return _write_tar(tmp_path / "aclImdb_small.tar.gz", files, {"aclImdb/train/pos/9_8.txt": "0_9.txt"})


@pytest.fixture(scope="module")
def cleaner(shared_data: Path) -> TextCleaner:
    return TextCleaner(nltk_data=shared_data / "nltk_data")


def test_bad_members_are_rejected_with_reasons_and_the_rest_kept(store: Store, synthetic: Path, cleaner: TextCleaner) -> None:
    info = build_imdb(store, synthetic, cleaner=cleaner, options=ImdbOptions(valid_fraction=0.34))
    rejects = store.read("imdb", "rejects").to_pylist()
    got = {r["item"]: r["reason"] for r in rejects}
    expected = {k: reason for k, (_, reason) in BAD.items()} | {"aclImdb/train/pos/9_8.txt": "unreadable_member"}
    assert got == expected
    assert all(r["detail"] for r in rejects)
    counts = info.manifest["counts"]
    assert counts["read"] == len(GOOD) + len(BAD) + 1
    assert counts["kept"] == len(GOOD) and counts["rejected"] == len(BAD) + 1
    assert counts["rejected_not_utf8"] == 1 and counts["rejected_unreadable_member"] == 1
    data = {r["id"]: r for r in store.read("imdb").to_pylist()}
    assert set(data) == {"train_pos_0", "train_pos_1", "train_pos_2", "train_neg_0", "train_neg_1", "train_neg_3",
                         "test_pos_0", "test_neg_0", "train_unsup_0"}
    r = data["train_pos_0"]
    assert r["text"] == GOOD["aclImdb/train/pos/0_9.txt"] and r["rating"] == 9 and r["label"] == 1
    assert r["clean_text"] == "wonderful film loved"
    assert data["train_unsup_0"]["label"] is None and data["train_unsup_0"]["split"] == "unsup"
    assert data["train_unsup_0"]["rating"] is None
    assert data["test_neg_0"]["split"] == "test" and data["test_neg_0"]["label"] == 0
    # one of three per label moves to valid
    splits = [r["split"] for r in data.values() if r["id"].startswith("train_") and r["label"] is not None]
    assert splits.count("valid") == 2 and counts["valid_pos"] == 1 and counts["valid_neg"] == 1
    # analysts see both tables
    cols, rows = Catalog(store).query("SELECT reason, count(*) FROM imdb_rejects GROUP BY 1 ORDER BY 1")
    assert len(rows) == 6


def test_directory_and_url_sources_give_the_same_rows(
    store: Store, synthetic: Path, cleaner: TextCleaner, tmp_path: Path, httpserver
) -> None:
    build_imdb(store, synthetic, cleaner=cleaner)
    from_tar = store.read("imdb").sort_by("id")
    extracted = tmp_path / "x"
    with tarfile.open(synthetic) as tar:
        tar.extractall(extracted, filter="data")
    info = build_imdb(store, extracted, cleaner=cleaner)
    assert store.read("imdb").sort_by("id").equals(from_tar)
    assert info.manifest["counts"]["rejected"] == len(BAD) + 1  # the symlink too
    httpserver.expect_request("/aclImdb_v1.tar.gz").respond_with_data(synthetic.read_bytes())
    url = httpserver.url_for("/aclImdb_v1.tar.gz")
    info = build_imdb(store, url, cleaner=cleaner)
    assert info.manifest["source"] == url and info.version == "v3"
    assert store.read("imdb").sort_by("id").equals(from_tar)
    assert len(list((store.root / "cache" / "downloads").glob("*aclImdb_v1.tar.gz"))) == 1


def test_broken_sources_are_clear_errors(store: Store, synthetic: Path, cleaner: TextCleaner, tmp_path: Path, httpserver) -> None:
    truncated = tmp_path / "cut.tar.gz"
    truncated.write_bytes(synthetic.read_bytes()[: synthetic.stat().st_size // 2])
    with pytest.raises(SourceError, match="truncated or corrupt"):
        build_imdb(store, truncated, cleaner=cleaner)
    with pytest.raises(SourceError, match="does not exist"):
        build_imdb(store, tmp_path / "missing.tar.gz", cleaner=cleaner)
    httpserver.expect_request("/gone.tar.gz").respond_with_data("no", status=404)
    with pytest.raises(SourceError, match="cannot download .*404"):
        build_imdb(store, httpserver.url_for("/gone.tar.gz"), cleaner=cleaner)
    assert store.datasets() == []  # nothing half-written became visible


def test_valid_split_is_seeded_and_stratified(store: Store, imdb_sample, cleaner: TextCleaner) -> None:
    small = imdb_sample(50)
    ids = []
    for seed in (1, 1, 2):
        build_imdb(store, small, cleaner=cleaner, options=ImdbOptions(valid_fraction=0.2, seed=seed, include_unsup=False))
        t = store.read("imdb")
        valid = t.filter(pc.equal(t["split"], "valid"))
        assert pc.sum(pc.equal(valid["label"], 1)).as_py() == 10 and valid.num_rows == 20
        ids.append(sorted(valid["id"].to_pylist()))
        assert "unsup" not in t["split"].to_pylist()
    assert ids[0] == ids[1] != ids[2]
    with pytest.raises(ValueError, match=r"valid_fraction must be in \[0, 0.5\), got 0.7"):
        build_imdb(store, small, cleaner=cleaner, options=ImdbOptions(valid_fraction=0.7))


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_full_rebuild_counts_on_the_real_tarball(store: Store, shared_data: Path, cleaner: TextCleaner) -> None:
    info = build_imdb(store, shared_data / "imdb" / "aclImdb_v1.tar.gz", cleaner=cleaner)
    c = info.manifest["counts"]
    assert c["rejected"] == 0 and c["kept"] == 100_000
    assert c["train_pos"] + c["valid_pos"] == 12_500 and c["train_neg"] + c["valid_neg"] == 12_500
    assert c["valid_pos"] == c["valid_neg"] == 1_250
    assert c["test_pos"] == c["test_neg"] == 12_500 and c["unsup"] == 50_000
    _, rows = Catalog(store).query(
        "SELECT split, label, count(*), min(rating), max(rating), count(DISTINCT id) FROM imdb GROUP BY 1, 2 ORDER BY 1, 2"
    )
    assert rows == [
        ("test", 0, 12_500, 1, 4, 12_500), ("test", 1, 12_500, 7, 10, 12_500),
        ("train", 0, 11_250, 1, 4, 11_250), ("train", 1, 11_250, 7, 10, 11_250),
        ("unsup", None, 50_000, None, None, 50_000),
        ("valid", 0, 1_250, 1, 4, 1_250), ("valid", 1, 1_250, 7, 10, 1_250),
    ]
    # '<br />' is in about half the reviews; the word 'br' survives cleaning only where the text itself has it
    # (e.g. "BR Chopra", "Brühl" -> "br hl"), never from a tag
    _, html = Catalog(store).query(
        "SELECT count(*) FILTER (WHERE text LIKE '%<br />%'), "
        "count(*) FILTER (WHERE regexp_matches(clean_text, '(^| )br( |$)')), "
        "count(*) FILTER (WHERE regexp_matches(regexp_replace(lower(text), '<br */?>', ' ', 'g'), '(^|[^a-z])br([^a-z]|$)')) "
        "FROM imdb"
    )
    with_tags, br_word, br_in_text = html[0]
    assert with_tags > 40_000 and br_word == br_in_text < 50
    _, first = Catalog(store).query("SELECT text FROM imdb WHERE id = 'train_pos_0'")
    assert first[0][0].startswith("Bromwell High is a cartoon comedy")
