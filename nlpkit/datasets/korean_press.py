"""``korean_press``: dated headline posts of six Korean newspapers, with outlet and outlet group.

The source is the CSV of scdenney/nlp_corpora (``korean_newspapers_twitter.csv``, MIT): 2,748 posts
that six newspapers' accounts published between 2017-07-21 and 2017-08-11, each a headline-style
line followed by one or two short links. It is the one Korean corpus with real publication times
and outlets, so trends by day, outlet comparison and stories across outlets work on it.

Columns: ``id``, ``text`` (the post with its links removed), ``title`` (its first line),
``published_at`` (UTC; the source's ``created`` is Korean local time), ``outlet`` (Korean name),
``outlet_group`` (``left``/``right``, the corpus curator's outlet-level label), ``label``
(0 = left, 1 = right), ``paper_name``, ``favorite_count``, ``retweet_count``, ``split``.

>>> strip_links("문 대통령 \\"컨트롤 타워\\" https://t.co/ee49kTVEMP https://t.co/2vICsGbhJH")
'문 대통령 "컨트롤 타워"'
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from nlpkit.datasets.download import ProgressFn, is_url, resolve_source
from nlpkit.datasets.importer import REJECT_SCHEMA
from nlpkit.datasets.sources import decode_utf8, read_members, stratified_split
from nlpkit.errors import SourceError
from nlpkit.store.versions import Store, VersionInfo

__all__ = ["KOREAN_PRESS_URL", "OUTLETS", "GROUPS", "build_korean_press", "strip_links"]

KOREAN_PRESS_FILE = "korean_newspapers_twitter.csv"
#: The file at the commit ../shared/data/korean_press_tweets was verified against (MANIFEST.md).
KOREAN_PRESS_URL = ("https://raw.githubusercontent.com/scdenney/nlp_corpora/437c1ff4018e28af122cb86c27de8038e5e8eb18/"
                    f"data/kr_newspapers/{KOREAN_PRESS_FILE}")
#: The source's account names -> the newspapers' Korean names.
OUTLETS: dict[str, str] = {"chosun": "조선일보", "dongamedia": "동아일보", "joongangilbo": "중앙일보",
                           "hankyungmedia": "한국경제", "hanitweet": "한겨레", "kyunghyang": "경향신문"}
#: Outlet group -> label id (the curator's ``pol_id``).
GROUPS: dict[str, int] = {"left": 0, "right": 1}
KST = timezone(timedelta(hours=9))
_LINK = re.compile(r"(?:https?://|pic\.twitter\.com/)\S+")
_COLUMNS = ("paper_name", "text", "created", "id", "pol_id")


def strip_links(text: str) -> str:
    """``text`` without its links (the posts' links are all short links to the article or a picture,
    at the end or between the headline's lines), HTML entities decoded, without the blank lines left."""
    text = html.unescape(text.replace("\r\n", "\n"))  # the posts hold &gt; &amp; ... as the API gave them
    lines = (" ".join(_LINK.sub(" ", line).split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _row(rec: dict[str, str]) -> dict[str, Any]:
    """One stored row of a CSV record; ValueError/KeyError name what is wrong."""
    paper = rec["paper_name"].strip()
    if paper not in OUTLETS:
        raise ValueError(f"paper_name {paper!r} is not one of {', '.join(OUTLETS)}")
    group = rec["pol_id"].strip()
    if group not in GROUPS:
        raise ValueError(f"pol_id {group!r} is not left/right")
    try:
        created = datetime.strptime(rec["created"].strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=KST)
    except ValueError as e:
        raise ValueError(f"created {rec['created']!r} is not YYYY-MM-DD HH:MM:SS") from e
    text = strip_links(rec["text"])
    return {"id": rec["id"].strip(), "text": text, "title": text.split("\n", 1)[0],
            "published_at": created.astimezone(timezone.utc), "outlet": OUTLETS[paper], "outlet_group": group,
            "label": GROUPS[group], "paper_name": paper, "favorite_count": _int(rec.get("favoriteCount") or "0"),
            "retweet_count": _int(rec.get("retweetCount") or "0"), "split": ""}


def parse_csv(data: bytes, where: str = KOREAN_PRESS_FILE) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Rows and rejects of the source CSV (a real CSV parser: some texts hold quoted newlines)."""
    reader = csv.DictReader(io.StringIO(decode_utf8(data, where), newline=""))
    missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise SourceError(f"{where}: missing column(s) {', '.join(missing)}; expected the header "
                          f"paper_name,text,favoriteCount,created,id,retweetCount,pol_id")
    rows: list[dict[str, Any]] = []
    rejects: list[dict[str, str]] = []
    seen: set[str] = set()
    try:
        for no, rec in enumerate(reader, 1):
            item = f"{Path(where).name}:record {no}"
            try:
                row = _row(rec)
            except (ValueError, KeyError, AttributeError) as e:
                rejects.append({"item": item, "reason": "bad_value", "detail": f"{type(e).__name__}: {e}"})
                continue
            if not row["id"] or row["id"] in seen:
                rejects.append({"item": item, "reason": "duplicate_id", "detail": f"id {row['id']!r}"})
            elif not row["text"]:
                rejects.append({"item": item, "reason": "empty_text", "detail": f"id {row['id']} (links only)"})
            else:
                seen.add(row["id"])
                rows.append(row)
    except csv.Error as e:
        raise SourceError(f"{where}: not a readable CSV at record {reader.line_num} ({e})") from e
    return rows, rejects


def build_korean_press(store: Store, source: str | os.PathLike[str], *, seed: int = 13,
                       cache_dir: Path | None = None, progress: ProgressFn | None = None,
                       name: str = "korean_press") -> VersionInfo:
    """Store the headline posts as a new version of ``name``, split 80/10/10 stratified by outlet."""
    path = resolve_source(source, cache_dir or store.root / "cache" / "downloads", progress=progress)
    src = str(source) if is_url(source) else str(path.resolve())
    data = read_members(path, [KOREAN_PRESS_FILE])[KOREAN_PRESS_FILE]
    rows, rejects = parse_csv(data)
    if not rows:
        raise SourceError(f"{src}: no usable rows for {name} ({len(rejects)} rejected)")
    for r, split in zip(rows, stratified_split([r["outlet"] for r in rows], [0.8, 0.1, 0.1],
                                               ["train", "valid", "test"], seed)):
        r["split"] = split
    rows.sort(key=lambda r: (r["published_at"], r["id"]))
    schema = pa.schema([("id", pa.string()), ("text", pa.string()), ("title", pa.string()),
                        ("published_at", pa.timestamp("us", tz="UTC")), ("outlet", pa.string()),
                        ("outlet_group", pa.string()), ("label", pa.int64()), ("paper_name", pa.string()),
                        ("favorite_count", pa.int64()), ("retweet_count", pa.int64()), ("split", pa.string())])
    counts: dict[str, int] = {"read": len(rows) + len(rejects), "kept": len(rows), "rejected": len(rejects)}
    for r in rows:
        counts[r["split"]] = counts.get(r["split"], 0) + 1
    for r in rejects:
        counts[f"rejected_{r['reason']}"] = counts.get(f"rejected_{r['reason']}", 0) + 1
    with store.write_version(name, parameters={"seed": seed}, source=src) as w:
        w.write(pa.Table.from_pylist(rows, schema=schema))
        w.write(pa.Table.from_pylist(rejects, schema=REJECT_SCHEMA), "rejects")
        w.counts.update(counts)
        w.extra["split_note"] = "no official split: seeded 80/10/10 split stratified by outlet"
        w.extra["time_note"] = "published_at: the source's created (Korean local time) converted to UTC"
    return store.latest(name)
