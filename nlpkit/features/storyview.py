"""Reading the stored ``stories`` table: the top stories of a period and their articles (CLI and web app).

A story is "in" a period (days in Korean time) when one of its articles was published in it; stories are ranked by the
number of outlets that covered them, then by their number of articles, then by their first time.
Times are shown in Korean time (KST).
"""

from __future__ import annotations

from typing import Any

import pyarrow.compute as pc

from nlpkit.errors import DatasetError, FeatureError
from nlpkit.features.docterms import parse_day
from nlpkit.store import Store

__all__ = ["read_stories", "story_members"]


def _kst(value: Any) -> str:
    import pandas as pd

    if value is None or pd.isna(value):
        return "?"
    return pd.Timestamp(value).tz_convert("Asia/Seoul").strftime("%Y-%m-%d %H:%M")


def _tables(store: Store, dataset: str) -> tuple[Any, Any]:
    from nlpkit.features.analysis import analysis_name

    try:
        info = store.latest(analysis_name(dataset))
    except DatasetError as e:
        raise FeatureError(f"no stories for {dataset!r} yet: run `nlpkit features analyse {dataset}` first") from e
    name, version = analysis_name(dataset), info.version
    return store.read(name, "stories", version=version), store.read(name, "story_members", version=version)


def read_stories(store: Store, dataset: str, *, since: str | None = None, until: str | None = None,
                 n: int = 15, offset: int = 0) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    """``(stories, members by story)``: the top ``n`` (after ``offset``) stories with an article in the period."""
    data, members = _tables(store, dataset)
    lo, hi = parse_day(since, "since"), parse_day(until, "until", end=True)
    if lo is not None or hi is not None:  # stories with an article in the period (all their articles listed)
        t = members["time"]
        keep = pc.is_valid(t)
        if lo is not None:
            keep = pc.and_(keep, pc.greater_equal(t, lo.to_pydatetime()))
        if hi is not None:
            keep = pc.and_(keep, pc.less_equal(t, hi.to_pydatetime()))
        data = data.filter(pc.is_in(data["story"], members.filter(keep)["story"].unique()))
    rows = sorted(data.to_pylist(), key=lambda s: (-s["n_outlets"], -s["size"], s["first"] is None, s["first"] or 0))
    top = rows[offset: offset + n]
    for s in top:
        s["first_kst"], s["last_kst"] = _kst(s["first"]), _kst(s["last"])
    wanted = {s["story"] for s in top}
    items: dict[int, list[dict[str, Any]]] = {}
    for m in members.to_pylist():
        if m["story"] in wanted:
            m["time_kst"] = _kst(m["time"])
            items.setdefault(m["story"], []).append(m)
    for v in items.values():
        v.sort(key=lambda m: (m["time"] is None, m["time"] or 0))
    return top, items


def story_members(store: Store, dataset: str, story: int) -> list[str]:
    """Document ids of one story; a FeatureError names the known range."""
    data, members = _tables(store, dataset)
    ids = members.filter(pc.equal(members["story"], story))["id"].to_pylist()
    if not ids:
        raise FeatureError(f"story {story} is not in {dataset}; stories are numbered 1..{data.num_rows}")
    return ids
