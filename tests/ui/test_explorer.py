"""The app without a browser: burst score and term counts (exact, on hand-made data), and every page
over the real store through HTTP: read-only, one-line errors for bad input, downloads."""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpkit.store import SqlSandbox, Store
from nlpkit.ui import UiError
from nlpkit.ui.trends import bursts, term_series


def _times(days: list[int]) -> pd.Series:
    return pd.Series(pd.Timestamp("2024-03-01", tz="UTC") + pd.to_timedelta(days, unit="D"))


def test_burst_score_is_the_explained_formula() -> None:
    # 10 documents in each 7-day window; "chip" in 1 before and 5 after, "rain" in 4 and 4, "once" once
    days = [1] * 10 + [9] * 10
    chip = [1] + [0] * 9 + [1] * 5 + [0] * 5
    rain = [1] * 4 + [0] * 6 + [1] * 4 + [0] * 6
    once = [0] * 19 + [1]
    X = sp.csr_matrix(np.array([chip, rain, once], dtype=np.float32).T)
    got, note = bursts(X, ["chip", "rain", "once"], _times(days), days=7)
    assert [b.term for b in got] == ["chip", "rain"]  # "once": 1 document is not a trend
    assert got[0].last == 5 and got[0].previous == 1
    assert got[0].score == round(math.log2((5.5 / 11) / (1.5 / 11)), 2)
    assert got[1].score == 0.0
    assert "10 documents" in note


def test_one_misdated_document_does_not_move_the_burst_windows() -> None:
    days = [1] * 10 + [9] * 10
    chip = [1] + [0] * 9 + [1] * 5 + [0] * 5
    X = sp.csr_matrix(np.array([chip + [1]], dtype=np.float32).T)
    got, note = bursts(X, ["chip"], _times(days + [3650]), days=7)  # one page dated ten years later
    assert [(b.term, b.last, b.previous) for b in got] == [("chip", 5, 1)] and "2024-03-10" in note


def test_burst_needs_both_windows() -> None:
    X = sp.csr_matrix(np.ones((3, 1), np.float32))
    with pytest.raises(UiError, match="longer window"):
        bursts(X, ["a"], _times([0, 1, 2]), days=7)
    with pytest.raises(UiError, match="no publication times"):
        bursts(X, ["a"], pd.Series([pd.NaT] * 3, dtype="datetime64[ns, UTC]"), days=7)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 27), st.booleans(), st.sampled_from(["A", "B"])), min_size=1, max_size=60))
def test_term_series_counts_documents_per_day_and_outlet(docs: list[tuple[int, bool, str]]) -> None:
    days, has, outlets = zip(*docs)
    X = sp.csr_matrix(np.array([[2.0 if h else 0.0, 1.0] for h in has], dtype=np.float32))
    s = term_series(X, [0], ["chip"], _times(list(days)), pd.Series(outlets), "day")
    for outlet, counts in s.counts.items():
        for period, n in zip(s.periods, counts):
            want = sum(1 for d, h, o in docs if h and o == outlet
                       and (pd.Timestamp("2024-03-01") + pd.Timedelta(days=d)).strftime("%Y-%m-%d") == period)
            assert n == want
    assert sum(map(sum, s.counts.values())) + sum(hit for _, _, hit in s.outliers) == sum(has)
    assert sum(n for _, n, _ in s.outliers) <= 0.05 * len(docs)  # outliers are few, or there are none


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def test_every_page_reads_only(client, ui_store: Store) -> None:
    before = _snapshot(ui_store.root)
    for url in ["/articles?dataset=korean_news&q=반도체", "/articles?dataset=articles&q=Hong+Kong",
                "/article?dataset=korean_news&id=0000NewsData", "/topics?dataset=korean_news&cluster=0",
                "/topics?dataset=korean_news&method=lda", "/trends?dataset=articles&q=police&period=week&days=365",
                "/models", "/sql"]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[-500:])
    for write in ["DROP TABLE korean_news", "COPY korean_news TO 'x.csv'", "INSERT INTO articles SELECT * FROM articles",
                  "SELECT 1; DELETE FROM korean_news", "ATTACH 'x.db'"]:
        r = client.post("/sql", data={"q": write})
        assert r.status_code == 400 and "refused" in r.text, write
        assert client.get("/sql/download", params={"q": write, "format": "parquet"}).status_code == 400
    assert _snapshot(ui_store.root) == before


def test_english_search_ranks_the_stories_first(client, ui_store: Store) -> None:
    _, rows = SqlSandbox(ui_store).query("SELECT DISTINCT title FROM articles WHERE title LIKE '%Hong Kong%'")
    about = {r[0] for r in rows}
    assert len(about) >= 2
    r = client.get("/articles", params={"dataset": "articles", "q": "Hong Kong"})
    titles = [html.unescape(t) for t in re.findall(r'class="title" href="[^"]+">([^<]+)<', r.text)]
    assert set(titles[:len(about)]) == about  # the stories with Hong Kong in the title rank first
    assert "query terms: hong kong" in r.text


@pytest.mark.parametrize(("url", "message"), [
    ("/articles?dataset=korean_new", "unknown dataset &#39;korean_new&#39;: did you mean korean_news?"),
    ("/articles?dataset=articles&since=yesterday", "since=&#39;yesterday&#39; is not a date: use YYYY-MM-DD"),
    ("/article?dataset=korean_news&id=nope", "no article &#39;nope&#39; in korean_news (320 documents)"),
    ("/topics?dataset=korean_news&method=tsne", "projection &#39;tsne&#39;: use pca or lda"),
    ("/trends?dataset=korean_news&q=반도체", "dataset &#39;korean_news&#39; has no publication times"),
])
def test_bad_input_is_one_line_on_the_page(client, url: str, message: str) -> None:
    r = client.get(url)
    assert r.status_code == 400
    errors = re.findall(r'id="error">([^<]*)<', r.text)
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert "Traceback" not in r.text


def test_downloads_hold_the_query_result(client, ui_store: Store) -> None:
    import io

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    q = "SELECT id, title, category FROM korean_news WHERE category = '경제' ORDER BY id"
    want = SqlSandbox(ui_store).arrow(q)
    csv = client.get("/sql/download", params={"q": q, "format": "csv"})
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    assert pacsv.read_csv(io.BytesIO(csv.content)).column("title").to_pylist() == want.column("title").to_pylist()
    pq_bytes = client.get("/sql/download", params={"q": q, "format": "parquet"}).content
    assert pq.read_table(io.BytesIO(pq_bytes)).equals(want)
    assert client.get("/sql/download", params={"q": q, "format": "xlsx"}).status_code == 400


def test_models_page_names_labels_in_the_confusion_matrix(client, ui_store: Store) -> None:
    r = client.get("/models")
    assert r.status_code == 200
    # the cross-validated run (every document once)
    table = re.search(r'<table class="confusion"><caption>tfidf_softmax on korean_news, cv2:.*?</caption>(.*?)</table>',
                      r.text, re.S).group(1)
    header = re.findall(r"<th>([^<]*)</th>", table.split("</tr>")[0])[1:]
    _, rows = SqlSandbox(ui_store).query("SELECT DISTINCT category FROM korean_news")
    assert sorted(header) == sorted(r[0] for r in rows)  # names, not 0-7
    cells = [int(v) for v in re.findall(r'<td style="[^"]*">(\d+)</td>', table)]
    n = SqlSandbox(ui_store).query("SELECT count(*) FROM korean_news")[1][0][0]
    assert len(cells) == len(header) ** 2 and sum(cells) == n == 320
    assert re.search(r"accuracy 0\.\d{3} ± 0\.\d{3}", r.text)


def test_downloads_stop_at_the_row_cap(client, ui_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from nlpkit.ui import app as ui_app

    monkeypatch.setattr(ui_app, "DOWNLOAD_ROWS", 7)
    q = "SELECT id, title FROM korean_news ORDER BY id"
    want = SqlSandbox(ui_store).arrow(q).slice(0, 7)
    csv = client.get("/sql/download", params={"q": q, "format": "csv"})
    assert pacsv.read_csv(io.BytesIO(csv.content)).column("id").to_pylist() == want.column("id").to_pylist()
    assert pq.read_table(io.BytesIO(client.get("/sql/download", params={"q": q, "format": "parquet"}).content)
                         ).equals(want)
    page = client.post("/sql", data={"q": q}).text
    assert "downloads hold the first 7 rows" in page


def test_health_says_ready_without_a_preload(client) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.text == "ready\n"


def test_models_page_shows_each_kinds_own_figures(tmp_path) -> None:
    # seq2seq and language-model rows have no accuracy: the page printed "accuracy –, macro F1 –" for them
    from starlette.testclient import TestClient

    from nlpkit.store.model_runs import append_runs
    from nlpkit.ui.app import create_app

    store = Store(tmp_path / "data")
    append_runs(store, [{"model": "seq2seq_reversed+peeky", "dataset": "addition", "split": "test", "loss": 0.0123,
                         "exact_match": 0.9968},
                        {"model": "rnn_lm_morph", "dataset": "store:korean_news", "split": "test", "loss": 4.339,
                         "perplexity": 76.633, "nats_per_token": 4.339}])
    with TestClient(create_app(store, warm=False), base_url="http://127.0.0.1") as c:
        page = c.get("/models").text
    seq2seq = page.split("<td>seq2seq_reversed+peeky</td>")[1].split("</tr>")[0]
    lm = page.split("<td>rnn_lm_morph</td>")[1].split("</tr>")[0]
    assert "exact match 0.997" in seq2seq and "accuracy" not in seq2seq and "–" not in seq2seq
    assert "perplexity 76.633" in lm and "loss 4.339" in lm and "accuracy" not in lm
