"""`nlpkit import` on hostile files: bombs stop at the cap with bounded memory, corrupt archives and
empty files are one-line errors, malformed lines become rejects with their line numbers."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlpkit.datasets.importer import ImportOptions, check_dataset_name, import_corpus
from nlpkit.datasets.limits import DecompressionLimits
from nlpkit.datasets.sources import read_members
from nlpkit.errors import DatasetError, SourceError
from nlpkit.store import Catalog, Store
from tests.cli_harness import cli_invoker, run_cli_child

MB = 1 << 20


_run_cli = run_cli_child


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    return cli_invoker(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def news_lines(shared_data: Path) -> list[str]:
    """The first 200 real Korean news articles, one JSON object per line."""
    with gzip.open(shared_data / "korean_news" / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        return [next(f).rstrip("\n") for _ in range(200)]


def _zeros_into(write, total: int) -> None:
    chunk = b"\0" * MB
    for _ in range(total // MB):
        write(chunk)


# -- decompression bombs ---------------------------------------------------------------------------------

def test_zip_bomb_is_refused_quickly_with_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"  # 1 MB on disk, 1 GiB of zeros inside (the case)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("data.jsonl", "w") as f:
        _zeros_into(f.write, 1024 * MB)
    assert bomb.stat().st_size < 2 * MB
    code, peak_mb, out = _run_cli(tmp_path, "data", "import", "myds", str(bomb))
    assert code == 2, out
    assert "decompression bomb" in out and "bomb.zip" in out and "Traceback" not in out
    assert peak_mb < 600, f"peak RSS {peak_mb} MiB"  # was 3.5-8.5 GB
    assert not (tmp_path / "data" / "datasets" / "myds").exists()


def test_gzip_bomb_is_stopped_while_streaming(tmp_path: Path, store: Store) -> None:
    bomb = tmp_path / "bomb.jsonl.gz"  # gzip has no trustworthy size header: the stream itself is counted
    with gzip.open(bomb, "wb", compresslevel=1) as f:
        _zeros_into(f.write, 160 * MB)
    with pytest.raises(SourceError, match=r"bomb.jsonl.gz expands more than 200x"):
        import_corpus(store, "bomb", bomb)
    # the absolute cap, here lowered to 1 MiB, also holds for a genuine file
    real = tmp_path / "real.jsonl.xz"
    real.write_bytes(lzma.compress("\n".join(json.dumps({"text": f"문장 {i}"}) for i in range(40_000)).encode()))
    with pytest.raises(SourceError, match=r"real.jsonl.xz expands to more than 1.0 MiB .*--max-decompressed-mb"):
        import_corpus(store, "real", real, ImportOptions(max_decompressed_bytes=MB))
    assert import_corpus(store, "real", real).rows == 40_000
    # the ratio cap applies past 64 MiB only and can be raised for a genuine, very repetitive file
    DecompressionLimits().check(60 * MB, 1, "small")
    DecompressionLimits(max_ratio=1e6).check(300 * MB, MB, "repetitive")
    with pytest.raises(SourceError, match="--max-ratio"):
        DecompressionLimits().check(300 * MB, MB, "repetitive")


def test_cli_max_decompressed_mb_option(cli, tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl.bz2"
    p.write_bytes(bz2.compress("\n".join(json.dumps({"text": "x" * 100, "n": i}) for i in range(30_000)).encode()))
    code, out = cli("data", "import", "c", str(p), "--max-decompressed-mb", "1")
    assert code == 2 and "error:" in out and "expands to more than 1.0 MiB" in out, out
    code, out = cli("data", "import", "c", str(p))
    assert code == 0 and "30,000 rows kept" in out, out


def test_tar_bomb_in_a_rebuild_source(tmp_path: Path) -> None:
    src = tmp_path / "src.tar.gz"
    with tarfile.open(src, "w:gz") as tar:
        info = tarfile.TarInfo("input.txt")
        info.size = 200 * MB
        r, w = os.pipe()
        with os.fdopen(r, "rb") as reader:
            import threading

            t = threading.Thread(target=lambda: (_zeros_into(os.fdopen(w, "wb", closefd=True).write, 200 * MB)))
            t.start()
            tar.addfile(info, reader)
            t.join()
    with pytest.raises(SourceError, match="decompression bomb"):
        read_members(src, ["input.txt"], limits=DecompressionLimits())


# -- corrupt and empty files ---------------------------------------------------------------------------------

def test_truncated_gzip_is_one_line_error_exit_2(cli, tmp_path: Path, news_lines: list[str]) -> None:
    data = gzip.compress("\n".join(news_lines).encode())
    p = tmp_path / "news.jsonl.gz"
    p.write_bytes(data[: len(data) // 2])
    code, out = cli("data", "import", "news", str(p), "--text-col", "body")
    assert code == 2, out  # was "Aborted." and exit 1
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), out
    assert "news.jsonl.gz" in out and "truncated or corrupt" in out


def test_corrupt_zip_and_tar(cli, tmp_path: Path, shared_data: Path) -> None:
    real = (shared_data / "nsmc" / "ratings_test.zip").read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(real[: len(real) // 2])  # no central directory any more
    code, out = cli("data", "import", "nsmc", str(cut), "--text-col", "document")
    assert code == 2 and out.startswith("error:") and "cut.zip" in out and "truncated or corrupt" in out, out
    flipped = bytearray(real)
    for i in range(2000, 60_000, 97):  # damage the deflate stream, keep the directory
        flipped[i] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(flipped))
    code, out = cli("data", "import", "nsmc", str(bad), "--text-col", "document", "--no-quoting")
    assert code == 2 and "bad.zip" in out and "truncated or corrupt" in out and "Traceback" not in out, out
    with pytest.raises(SourceError, match="bad.zip.*truncated or corrupt"):  # `nlpkit rebuild nsmc --source bad.zip`
        read_members(bad, ["ratings_test.txt"])
    tgz = tmp_path / "ptb.tar.gz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(shared_data / "lm" / "ptb" / "ptb.valid.txt", arcname="ptb.valid.txt")
    tgz.write_bytes(tgz.read_bytes()[:20_000])
    with pytest.raises(SourceError, match="truncated or corrupt"):
        read_members(tgz, ["ptb.valid.txt"])


@pytest.mark.parametrize(("name", "content", "says"), [
    ("e.jsonl", b"", "holds no bytes"),
    ("e.jsonl.gz", gzip.compress(b""), "holds no bytes"),
    ("blank.jsonl", b"\n\n  \n", "holds no rows"),
    ("h.csv", b"id,body\n", "holds only a header (id, body) and no rows"),
])
def test_empty_file_says_it_is_empty(cli, tmp_path: Path, name: str, content: bytes, says: str) -> None:
    (tmp_path / name).write_bytes(content)
    code, out = cli("data", "import", "e", str(tmp_path / name), "--text-col", "body")
    assert code == 2 and f"{name} is empty: it {says}" in out, out
    assert "is not a column" not in out


# -- malformed lines become rejects -------------------------------------------------------------------------

def test_malformed_jsonl_lines_are_rejected_the_rest_kept(store: Store, tmp_path: Path, news_lines: list[str]) -> None:
    lines = list(news_lines)
    lines[9] = lines[9][:-40]  # cut mid-object (line 10)
    lines[99] = lines[99].replace('"title"', "title", 1)  # unquoted key (line 100)
    lines[149] = "[1, 2]"  # valid JSON, not an object (line 150)
    lines.insert(50, "")  # blank lines are skipped, not rejected; later line numbers shift by one
    p = tmp_path / "news.jsonl"
    p.write_text("\n".join(lines), encoding="utf-8")
    info = import_corpus(store, "news", p, ImportOptions(text_col="body", id_col="id", label_col="category"))
    empty_bodies = sum(1 for i, line in enumerate(news_lines) if i not in (9, 99, 149)
                       and not json.loads(line)["body"].strip())  # the real slice has one empty article
    assert info.manifest["counts"]["kept"] == 197 - empty_bodies
    assert info.manifest["counts"]["unreadable_lines"] == 3
    rejects = store.read("news", "rejects").to_pylist()
    bad = [(r["item"], r["reason"]) for r in rejects if r["item"].startswith("line ")]
    assert bad == [("line 10", "malformed_json"), ("line 101", "malformed_json"), ("line 151", "not_an_object")]
    assert all("news.jsonl line" in r["detail"] for r in rejects)
    kept_ids = set(store.read("news").column("id").to_pylist())
    assert str(json.loads(news_lines[0])["id"]) in kept_ids and str(json.loads(news_lines[9])["id"]) not in kept_ids
    _, rows = Catalog(store).query("SELECT count(*) FROM news_rejects WHERE reason = 'malformed_json'")
    assert rows == [(2,)]


def test_csv_rows_that_do_not_parse_are_rejected(store: Store, tmp_path: Path, shared_data: Path) -> None:
    with zipfile.ZipFile(shared_data / "nsmc" / "ratings_test.zip") as z:
        lines = z.read("ratings_test.txt").decode("utf-8").splitlines()[:501]
    lines[20] = lines[20] + "\textra"  # 4 fields (line 21)
    lines[300] = lines[300].split("\t")[0]  # 1 field (line 301)
    p = tmp_path / "nsmc.tsv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    info = import_corpus(store, "nsmc", p, ImportOptions(text_col="document", id_col="id", label_col="label",
                                                         quoting=False))
    rejects = [r for r in store.read("nsmc", "rejects").to_pylist() if r["reason"] == "bad_row"]
    assert [r["item"] for r in rejects] == ["line 21", "line 301"]
    assert "4 fields, the header has 3" in rejects[0]["detail"]
    assert info.manifest["counts"]["read"] == 500
    assert info.rows == 498 - sum(1 for line in lines[1:] if line.count("\t") == 2 and not line.split("\t")[1].strip())


def test_non_utf8_jsonl_lines(store: Store, tmp_path: Path) -> None:
    p = tmp_path / "mixed.jsonl"
    p.write_bytes(b'{"text": "good"}\n' + '{"text": "한국어"}'.encode("euc-kr") + b'\n{"text": "also good"}\n')
    import_corpus(store, "mixed", p)
    assert [(r["item"], r["reason"]) for r in store.read("mixed", "rejects").to_pylist()] == [("line 2", "not_utf8")]
    q = tmp_path / "all_bad.jsonl"
    q.write_bytes("\n".join('{"text": "한국어"}' for _ in range(3)).encode("euc-kr"))
    with pytest.raises(SourceError, match=r"no usable rows \(3 line\(s\) unreadable; first: all_bad.jsonl line 1: "
                                          r"not UTF-8"):
        import_corpus(store, "bad", q)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.text(max_size=40),
    st.builds(lambda t: json.dumps({"text": t}), st.text(max_size=30)),
    st.builds(lambda t, n: json.dumps({"text": t, "n": n}), st.text(min_size=1, max_size=10),
              st.one_of(st.integers(), st.text(max_size=5), st.none(), st.lists(st.integers(), max_size=2))),
), min_size=0, max_size=25))
def test_any_jsonl_is_imported_or_refused_cleanly(tmp_path: Path, lines: list[str]) -> None:
    p = tmp_path / "h.jsonl.gz"
    p.write_bytes(gzip.compress("\n".join(lines).encode("utf-8", "surrogatepass")))
    store = Store(tmp_path / f"data{abs(hash(tuple(lines)))}")
    try:
        info = import_corpus(store, "h", p)
    except SourceError:
        return
    counts = info.manifest["counts"]
    # blank = ASCII whitespace only, as the reader sees bytes (a lone U+0085 is a line to reject, not a blank one)
    nonblank = sum(1 for line in "\n".join(lines).split("\n") if line.encode("utf-8", "surrogatepass").strip())
    assert counts["read"] == nonblank
    assert counts["kept"] + counts["rejected"] == nonblank
    assert store.read("h").num_rows == counts["kept"]


# -- dataset names -------------------------------------------------------------------------------------------

def test_dataset_names(cli, store: Store, tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl"
    p.write_text('{"text": "hello"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="invalid dataset name 'abc\\\\n'"):
        import_corpus(store, "abc\n", p)
    with pytest.raises(DatasetError, match="is 70 characters; the limit is 63, because the name becomes SQL view"):
        check_dataset_name("a" * 70)
    assert check_dataset_name("a" * 63) == "a" * 63
    code, out = cli("data", "import", "abc\n", str(p))
    assert code == 2 and "invalid dataset name" in out, out
    code, out = cli("data", "import", "a" * 70, str(p))
    assert code == 2 and "the limit is 63" in out, out
    assert not (tmp_path / "data" / "datasets").exists() or not any((tmp_path / "data" / "datasets").iterdir())
    assert store.datasets() == []
