"""Stories across outlets: the threshold chosen on hand-labelled pairs, and the stories of the real posts."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from nlpkit.errors import FeatureError
from nlpkit.features.stories import DEFAULT_THRESHOLD, choose_threshold, find_stories, jaccard, shingles
from nlpkit.features.storyview import read_stories, story_members

PAIRS = Path(__file__).parent / "data" / "korean_press_story_pairs.tsv"
#: All candidate pairs (different outlets, <= 48 h, Jaccard >= 0.1) of korean_press per sampled bin.
BINS = [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.01]
BIN_POPULATION = [516, 191, 94, 47, 53, 27, 27]


def _labelled() -> list[dict[str, str]]:
    lines = [line.rstrip("\n").split("\t") for line in PAIRS.read_text(encoding="utf-8").splitlines()
             if not line.startswith("#")]
    head, *rows = lines
    return [dict(zip(head, r)) for r in rows]


def _weight(j: float) -> float:
    k = next(i for i in range(len(BINS) - 1) if BINS[i] <= j < BINS[i + 1])
    return BIN_POPULATION[k] / 16


def test_labelled_pairs_jaccard_is_what_the_code_computes() -> None:
    rows = _labelled()
    assert len(rows) == 112 and {r["same"] for r in rows} == {"0", "1"}
    for r in rows:
        assert jaccard(shingles(r["title_a"]), shingles(r["title_b"])) == pytest.approx(float(r["jaccard"]), abs=1e-3)


def test_threshold_is_chosen_on_dev_pairs_and_holds_on_held_out_pairs() -> None:
    """The seeded 60/40 split of the module docstring: dev picks the threshold, held-out measures it."""
    rows = _labelled()
    idx = list(range(len(rows)))
    random.Random(13).shuffle(idx)
    dev, held = [rows[i] for i in idx[:67]], [rows[i] for i in idx[67:]]

    def columns(part: list[dict[str, str]]) -> tuple[list[float], list[int], list[float]]:
        j = [float(r["jaccard"]) for r in part]
        return j, [int(r["same"]) for r in part], [_weight(x) for x in j]

    chosen, _ = choose_threshold(*columns(dev))
    assert chosen == DEFAULT_THRESHOLD
    j, y, w = columns(held)
    _, at_chosen = choose_threshold(j, y, w, grid=[chosen])
    assert at_chosen["precision"] >= 0.75 and at_chosen["recall"] >= 0.4


def test_one_event_across_outlets_is_one_story_and_daily_series_do_not_chain() -> None:
    t0 = pd.Timestamp("2017-08-07 05:00", tz="UTC")
    titles = ["[속보]특검, 이재용 삼성전자 부회장에 징역 12년 구형",
              "특검, ‘박근혜 뇌물혐의’ 이재용 부회장에 징역 12년 구형",
              "특검, 이재용 삼성전자 부회장에 징역 12년 구형",
              "중국 쓰촨성 규모 7.0 강진",
              *[f"7월 {d}일 한겨레 그림판" for d in range(20, 31)]]
    times = [t0, t0 + pd.Timedelta(hours=1), t0 + pd.Timedelta(hours=2), t0,
             *[pd.Timestamp(f"2017-07-{d} 09:00", tz="UTC") for d in range(20, 31)]]
    outlets = ["경향신문", "한겨레", "동아일보", "조선일보", *["한겨레"] * 11]
    ids = [str(i) for i in range(len(titles))]
    found = find_stories(ids, titles, pd.Series(times), outlets)
    first = found.table.to_pylist()[0]
    assert first["members"] == ["0", "1", "2"] and first["outlets"] == "경향신문, 한겨레, 동아일보"
    assert "3" not in found.story_of
    spans = [(r["last"] - r["first"]).total_seconds() / 3600 for r in found.table.to_pylist()]
    assert max(spans) <= 96  # the cartoons of consecutive days never make one three-week story
    # far apart in time: not one story, however alike
    late = find_stories(ids[:2], titles[:2], pd.Series([t0, t0 + pd.Timedelta(days=5)]), outlets[:2])
    assert late.table.num_rows == 0
    with pytest.raises(FeatureError, match="threshold must be in"):
        find_stories(ids, titles, pd.Series(times), outlets, threshold=0)


@pytest.mark.slow
def test_real_posts_stories_and_reader(press_store) -> None:  # type: ignore[no-untyped-def]
    top, items = read_stories(press_store, "korean_press", n=10)
    assert len(top) == 10 and top[0]["n_outlets"] >= 4
    assert all(s["n_outlets"] >= t["n_outlets"] for s, t in zip(top, top[1:]))
    for s in top:
        assert len(items[s["story"]]) == s["size"] and s["first_kst"] <= s["last_kst"]
        assert s["last"] - s["first"] <= pd.Timedelta(hours=96)
    week, _ = read_stories(press_store, "korean_press", since="2017-08-05", until="2017-08-11", n=50)
    assert week and all(s["last"] >= pd.Timestamp("2017-08-04 15:00", tz="UTC") for s in week)
    assert set(story_members(press_store, "korean_press", top[0]["story"])) == \
        {m["id"] for m in items[top[0]["story"]]}
    with pytest.raises(FeatureError, match="story 99999 is not in korean_press"):
        story_members(press_store, "korean_press", 99999)
