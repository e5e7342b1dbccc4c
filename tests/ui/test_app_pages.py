"""The app goes the whole way: every list pages with its page number in the URL, a SQL query is a link,
downloads in CSV/JSON/Parquet, the schema lists columns and types, articles link to their source, and the
charts have axes, tick labels, titles and a legend. Answers are checked against the store directly."""

from __future__ import annotations

import html
import io
import json
import re
from urllib.parse import unquote

import pandas as pd
import pytest

from nlpkit.store import SqlSandbox, Store
from nlpkit.ui.charts import lines_svg, scatter_svg
from nlpkit.ui.paging import pager
from nlpkit.ui.trends import choose_period, dense_range


def _ids(page: str) -> list[str]:
    return [unquote(html.unescape(i)) for i in re.findall(r'class="title" href="/article\?dataset=[^&]*&(?:amp;)?id=([^"]*)"',
                                                       page)]


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> int:
    from nlpkit.ui import app as ui_app

    monkeypatch.setattr(ui_app, "PER_PAGE", 20)
    return 20


def test_page_two_of_the_articles_shows_the_next_rows(client, ui_store: Store, small_pages: int) -> None:
    n = SqlSandbox(ui_store).query("SELECT count(*) FROM korean_news")[1][0][0]
    first = client.get("/articles", params={"dataset": "korean_news"}).text
    second = client.get("/articles", params={"dataset": "korean_news", "page": "2"}).text
    one, two = _ids(first), _ids(second)
    assert len(one) == len(two) == small_pages and not set(one) & set(two)
    assert 'href="/articles?dataset=korean_news&amp;page=2"' in first  # the next page is a link
    assert f"rows 21–40 of {n:,}" in second and 'class="current">2<' in second
    last = -(-n // small_pages)
    beyond = client.get("/articles", params={"dataset": "korean_news", "page": "999"}).text
    assert f'class="current">{last}<' in beyond and len(_ids(beyond)) == n - (last - 1) * small_pages
    every = {i for p in range(1, last + 1)
             for i in _ids(client.get("/articles", params={"dataset": "korean_news", "page": str(p)}).text)}
    assert len(every) == n  # paging through reaches every document once


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1e3", "9" * 30, "³", "２"])
def test_a_bad_page_number_is_one_line(client, bad: str) -> None:
    r = client.get("/articles", params={"dataset": "korean_news", "page": bad})
    assert r.status_code == 400
    errors = re.findall(r'id="error">([^<]*)<', r.text)
    assert len(errors) == 1 and "whole number from 1" in html.unescape(errors[0])


def test_cluster_members_page(client, ui_store: Store, small_pages: int) -> None:
    _, rows = SqlSandbox(ui_store).query("SELECT cluster, count(*) AS n FROM clusters WHERE dataset = 'korean_news' "
                                         "GROUP BY cluster ORDER BY n DESC LIMIT 1")
    cluster, n = rows[0]
    assert n > small_pages
    one = _ids(client.get("/topics", params={"dataset": "korean_news", "cluster": cluster}).text)
    two = _ids(client.get("/topics", params={"dataset": "korean_news", "cluster": cluster, "page": 2}).text)
    assert len(one) == small_pages and two and not set(one) & set(two)


def test_a_sql_query_is_a_link(client, ui_store: Store) -> None:
    q = "SELECT label, count(*) AS n FROM korean_news GROUP BY label ORDER BY label"
    r = client.get("/sql", params={"q": q})
    assert r.status_code == 200
    cells = re.findall(r"<td>([^<]*)</td>", r.text.split('id="sql-result"')[1])
    _, want = SqlSandbox(ui_store).query(q)
    assert cells == [str(v) for row in want for v in row]
    assert 'id="share" href="/sql?q=SELECT' in r.text and 'method="get" action="/sql"' in r.text
    r = client.get("/sql", params={"q": "DELETE FROM korean_news"})
    assert r.status_code == 400 and 'id="sql-error"' in r.text  # the sandbox is read-only, GET or POST
    assert SqlSandbox(ui_store).query("SELECT count(*) FROM korean_news")[1][0][0] == sum(r[1] for r in want)


def test_downloads_in_json_csv_and_parquet(client, ui_store: Store) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    q = "SELECT id, title, label FROM korean_news ORDER BY id LIMIT 30"
    want = SqlSandbox(ui_store).arrow(q)
    r = client.get("/sql/download", params={"q": q, "format": "json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert json.loads(r.text) == want.to_pylist()
    assert json.loads(client.get("/sql/download", params={"q": "SELECT 1 AS a WHERE false", "format": "json"}).text) == []
    csv = pacsv.read_csv(io.BytesIO(client.get("/sql/download", params={"q": q, "format": "csv"}).content))
    assert csv.column("id").to_pylist() == want.column("id").to_pylist()
    assert pq.read_table(io.BytesIO(client.get("/sql/download", params={"q": q, "format": "parquet"}).content)).equals(want)
    odd = ("SELECT 'nan'::DOUBLE AS x, 'inf'::DOUBLE AS y, DATE '2024-01-01' AS d, [1.5, 'nan'::DOUBLE] AS l, "
           "'경제' AS name")
    text = client.get("/sql/download", params={"q": odd, "format": "json"}).text
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} is not JSON")) == [
        {"x": None, "y": None, "d": "2024-01-01", "l": [1.5, None], "name": "경제"}]
    r = client.get("/sql/download", params={"q": q, "format": "xml"})
    assert r.status_code == 400 and r.text == "error: format='xml': use one of csv, json, parquet\n"


def test_schema_lists_each_tables_columns_and_types(client, ui_store: Store) -> None:
    page = client.get("/schema").text
    _, described = SqlSandbox(ui_store).query('DESCRIBE "korean_news"')
    section = page.split('id="table-korean_news"')[1].split("</section>")[0]
    got = re.findall(r"<tr><td>([^<]*)</td><td><code>([^<]*)</code></td></tr>", section)
    assert got == [(str(r[0]), str(r[1])) for r in described]
    assert 'id="table-model_runs"' in page and 'id="table-articles"' in page


def test_an_article_links_to_its_source(client, ui_store: Store) -> None:
    _, rows = SqlSandbox(ui_store).query("SELECT canonical_url FROM articles WHERE duplicate_of IS NULL LIMIT 1")
    url = rows[0][0]
    page = client.get("/article", params={"dataset": "articles", "id": url}).text
    assert re.search(r'<a id="source-link" href="' + re.escape(html.escape(url)) + '"', page)


def test_the_scatter_has_axes_and_a_legend(client) -> None:
    page = client.get("/topics", params={"dataset": "korean_news"}).text
    svg = page.split('<svg id="scatter"')[1].split("</svg>")[0]
    titles = re.findall(r'class="axis-title [xy]"[^>]*>([^<]*)<', svg)
    assert titles == ["principal component 1", "principal component 2"]
    assert len(re.findall(r'class="tick x"', svg)) >= 2 and len(re.findall(r'class="tick y"', svg)) >= 2
    assert len(re.findall(r'class="legend-item"', svg)) == 8  # k=8 clusters, each with its colour and words
    assert scatter_svg([], "x") == '<p class="empty">No points to draw.</p>'


def test_one_old_article_does_not_stretch_the_axis() -> None:
    times = pd.Series(pd.to_datetime(["2014-05-02"] + [f"2019-03-{d:02d}" for d in range(1, 29)] * 2, utc=True))
    first, last = dense_range(times)
    assert (first, last) == (pd.Timestamp("2019-03-01", tz="UTC"), pd.Timestamp("2019-03-28", tz="UTC"))
    assert choose_period(first, last) == "day"
    spread = pd.Series(pd.to_datetime([f"20{y}-01-01" for y in range(10, 20)], utc=True))
    assert dense_range(spread) == (spread.iloc[0], spread.iloc[-1])  # evenly spread years are the data
    assert choose_period(spread.iloc[0], spread.iloc[-1]) == "month"
    assert choose_period(pd.Timestamp("2019-01-01"), pd.Timestamp("2019-09-01")) == "week"


def test_the_trend_chart_has_tick_labels_and_axis_titles() -> None:
    periods = [f"2019-03-{d:02d}" for d in range(1, 23)]
    svg = lines_svg(periods, {"조선일보": [d % 5 for d in range(22)], "한겨레": [1] * 22}, x_title="publication day (UTC)",
                    y_title="documents mentioning the term")
    x_ticks = re.findall(r'class="tick x"[^>]*>([^<]*)<', svg)
    assert x_ticks[0] == periods[0] and x_ticks[-1] == periods[-1] and 5 <= len(x_ticks) <= 8
    assert re.findall(r'class="tick y"[^>]*>([^<]*)<', svg) == ["0", "1", "2", "3", "4"]
    assert re.findall(r'class="axis-title [xy]"[^>]*>([^<]*)<', svg) == ["publication day (UTC)",
                                                                          "documents mentioning the term"]
    assert re.findall(r'class="legend"[^>]*>([^<]*)<', svg) == ["조선일보", "한겨레"]


def test_pager_links_keep_the_other_parameters() -> None:
    p = pager({"dataset": "korean_news", "q": "반도체", "page": "5"}, "/articles", total=1000, per_page=50)
    assert (p.page, p.pages, p.offset, p.first, p.last) == (5, 20, 200, 201, 250)
    assert p.prev_url == "/articles?dataset=korean_news&q=%EB%B0%98%EB%8F%84%EC%B2%B4&page=4"
    assert [n for n, _ in p.numbers] == [1, 0, 3, 4, 5, 6, 7, 0, 20]
    assert pager({}, "/articles", total=0).pages == 1
