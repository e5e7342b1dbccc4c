"""Outlet comparison: Monroe et al.'s log-odds with an informative Dirichlet prior, and coverage shares."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nlpkit.errors import FeatureError
from nlpkit.features.docterms import load_doc_terms
from nlpkit.features.outlets import coverage, distinguishing_terms, pick_freq


def test_log_odds_z_matches_the_formula(doc_terms_of) -> None:  # type: ignore[no-untyped-def]
    rows = [{"a", "b"}, {"a"}, {"a", "c"}, {"a"}, {"b"}, {"c"}, {"b", "c"}, {"c"}]
    outlets = ["L", "L", "L", "L", "R", "R", "R", "R"]
    dt = doc_terms_of(rows, outlets)
    tb = {(r["group"], r["term"]): r for r in distinguishing_terms(dt, n=3, min_count=1).to_pylist()}
    # term a: L 4, R 0; prior alpha = corpus counts (a 4, b 3, c 4; a0 = 11); n_L = 6, n_R = 5
    y_i, y_j, a, a0, n_i, n_j = 4, 0, 4, 11, 6, 5
    delta = math.log((y_i + a) / (n_i + a0 - y_i - a)) - math.log((y_j + a) / (n_j + a0 - y_j - a))
    z = delta / math.sqrt(1 / (y_i + a) + 1 / (y_j + a))
    assert tb[("L", "a")]["z"] == pytest.approx(z, rel=1e-5) and tb[("L", "a")]["rank"] == 1
    assert tb[("R", "c")]["z"] > 0 > tb[("L", "c")]["z"]


def test_coverage_is_a_share_of_each_outlets_documents(doc_terms_of) -> None:  # type: ignore[no-untyped-def]
    rows = [{"x"}, {"y"}, {"x"}, {"y"}, {"y"}, {"y"}]
    dt = doc_terms_of(rows, ["A", "A", "B", "B", "B", "B"])
    frame = coverage(dt, term="x", freq="D")
    got = {r.group: (r.docs_with, r.docs, r.share) for r in frame.itertuples()}
    assert got == {"A": (1, 2, 0.5), "B": (1, 4, 0.25)}
    with pytest.raises(FeatureError, match="give either a term or a story's members"):
        coverage(dt)
    assert pick_freq(dt.meta["time"]) == "D"


@pytest.mark.slow
def test_real_posts_outlet_groups_differ_in_the_expected_way(press_store) -> None:  # type: ignore[no-untyped-def]
    dt = load_doc_terms(press_store, "korean_press")
    tb = distinguishing_terms(dt, by="outlet_group", n=10).to_pylist()
    right = [r["term"] for r in tb if r["group"] == "right"]
    left = [r["term"] for r in tb if r["group"] == "left"]
    # the conservative papers abbreviate with hanja (文 대통령, 北, 美); the progressive ones do not
    assert {"文", "北"} <= set(right[:3]) and not {"文", "北"} & set(left)
    assert all(r["z"] > 1.96 for r in tb if r["group"] == "right" and r["rank"] <= 3)
    frame = coverage(dt, term="사드", by="outlet")
    assert set(frame["group"]) == {"조선일보", "동아일보", "중앙일보", "한국경제", "한겨레", "경향신문"}
    assert frame["docs"].sum() == 2746 and frame["docs_with"].sum() == dt.df[dt.column("사드")]
    assert np.all((frame["share"] >= 0) & (frame["share"] <= 1))
    stored = press_store.read("analysis_korean_press", "outlet_terms").to_pylist()
    assert {r["by"] for r in stored} == {"outlet", "outlet_group"}
