"""korean_press: the real headline posts of six Korean newspapers, dated and by outlet."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

from nlpkit.datasets.korean_press import KOREAN_PRESS_URL, OUTLETS, parse_csv, strip_links
from nlpkit.datasets.registry import get_builder, rebuild, source_for
from nlpkit.errors import SourceError
from nlpkit.settings import load_settings
from nlpkit.store import Store

ROOT = Path(__file__).resolve().parents[2]
HEADER = "paper_name,text,favoriteCount,created,id,retweetCount,pol_id\n"


def test_real_file_rows_times_outlets_and_no_links(store: Store, shared_data: Path) -> None:
    info = rebuild(store, "korean_press", str(shared_data / "korean_press_tweets"))
    counts = info.manifest["counts"]
    # 2,748 records; two are only links (no headline left) and go to rejects
    assert (counts["read"], counts["kept"], counts["rejected"]) == (2748, 2746, 2)
    assert {r["reason"] for r in store.read("korean_press", "rejects").to_pylist()} == {"empty_text"}
    t = store.read("korean_press")
    assert {"id", "text", "title", "published_at", "outlet", "outlet_group", "label", "split"} <= set(t.column_names)
    assert sorted(set(t["outlet"].to_pylist())) == sorted(OUTLETS.values())
    from collections import Counter

    by_outlet = Counter(t["outlet"].to_pylist())
    assert (by_outlet["한겨레"], by_outlet["조선일보"], by_outlet["동아일보"]) == (771, 210, 269)  # MANIFEST: 270, one links-only
    groups = {o: g for o, g in zip(t["outlet"].to_pylist(), t["outlet_group"].to_pylist())}
    assert groups == {"조선일보": "right", "동아일보": "right", "중앙일보": "right", "한국경제": "right",
                      "한겨레": "left", "경향신문": "left"}
    # created is Korean time: the first post, 2017-07-21 00:00:21 KST, is 2017-07-20 15:00:21 UTC
    first = pc.min(t["published_at"]).as_py()
    assert (first.isoformat(), pc.max(t["published_at"]).as_py().date().isoformat()) == \
        ("2017-07-20T15:00:21+00:00", "2017-08-11")
    texts = t["text"].to_pylist()
    assert not [x for x in texts if "http" in x or "t.co/" in x or "&gt;" in x or "&amp;" in x]
    assert all(x.strip() and ti == x.split("\n", 1)[0] for x, ti in zip(texts, t["title"].to_pylist()))


def test_strip_links_keeps_the_headline_lines() -> None:
    raw = "선동열, 초대 감독 됐다\nhttps://t.co/Uu3xdj3rrI\n2020 도쿄올림픽까지 https://t.co/x pic.twitter.com/abc"
    assert strip_links(raw) == "선동열, 초대 감독 됐다\n2020 도쿄올림픽까지"
    assert strip_links("a &gt; b &amp; c https://t.co/q") == "a > b & c"
    assert strip_links("https://t.co/a https://t.co/b") == ""


def test_bad_records_are_rejected_with_the_reason_and_the_rest_kept() -> None:
    data = (HEADER
            + 'chosun,"첫 줄\n둘째 줄 https://t.co/a",1,2017-07-27 10:49:10,1,0,right\n'
            + "chosun,다른 기사,1,2017-07-27 10:49:10,1,0,right\n"          # same id again
            + "nyt,영어 신문,0,2017-07-27 10:49:10,2,0,right\n"             # unknown paper
            + "hanitweet,날짜 없음,0,27/07/2017,3,0,left\n"                 # bad date
            + "hanitweet,그룹 없음,0,2017-07-27 10:49:10,4,0,center\n"      # bad group
            + "kyunghyang,https://t.co/only,0,2017-07-27 10:49:10,5,0,left\n")  # links only
    rows, rejects = parse_csv(data.encode())
    assert [r["id"] for r in rows] == ["1"] and rows[0]["text"] == "첫 줄\n둘째 줄"
    reasons = [(r["item"], r["reason"]) for r in rejects]
    assert reasons == [("korean_newspapers_twitter.csv:record 2", "duplicate_id"),
                       ("korean_newspapers_twitter.csv:record 3", "bad_value"),
                       ("korean_newspapers_twitter.csv:record 4", "bad_value"),
                       ("korean_newspapers_twitter.csv:record 5", "bad_value"),
                       ("korean_newspapers_twitter.csv:record 6", "empty_text")]
    assert "paper_name 'nyt'" in rejects[1]["detail"] and "27/07/2017" in rejects[2]["detail"]


def test_missing_column_and_wrong_file_are_one_line_errors(store: Store, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"missing column\(s\) pol_id"):
        parse_csv(b"paper_name,text,favoriteCount,created,id,retweetCount\n")
    (tmp_path / "other.csv").write_text("x\n", encoding="utf-8")
    with pytest.raises(SourceError, match="missing korean_newspapers_twitter.csv"):
        rebuild(store, "korean_press", str(tmp_path))


def test_registered_with_default_url_and_env_override(tmp_path: Path) -> None:
    builder = get_builder("korean_press")
    assert builder.default_source == KOREAN_PRESS_URL and builder.label_names == {0: "left", 1: "right"}
    assert source_for("korean_press", {}) == KOREAN_PRESS_URL
    s = load_settings(ROOT / "flows.yaml", {"NLPKIT_KOREAN_PRESS_SOURCE": "/local/press.csv",
                                             "NLPKIT_DATA_DIR": str(tmp_path)})
    assert source_for("korean_press", s.sources) == "/local/press.csv"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "NLPKIT_KOREAN_PRESS_SOURCE ?= $(SHARED_DATA)/korean_press_tweets/" in makefile
