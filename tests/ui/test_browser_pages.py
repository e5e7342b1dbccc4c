"""The changed pages in a real headless Chromium: paging, a SQL link, the JSON download, the Trends axes
and the Models page's confusion matrix, each checked against the store (read through the SQL sandbox)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from nlpkit.datasets.labels import label_names
from nlpkit.store import SqlSandbox, Store
from tests.ui.test_browser import _by, _click_and_wait, _titles

pytestmark = pytest.mark.usefixtures("ui_url")


def test_page_two_shows_other_rows(browser, ui_url: str, ui_store: Store) -> None:
    n = SqlSandbox(ui_store).query("SELECT count(*) FROM korean_news")[1][0][0]
    browser.get(f"{ui_url}/articles?dataset=korean_news")
    first = _titles(browser, "#hits a.title")
    links = [a.get_attribute("href") for a in browser.find_elements(_by("CSS_SELECTOR"), "#hits a.title")]
    _click_and_wait(browser, browser.find_element(_by("CSS_SELECTOR"), "nav.pager a.next"))
    assert browser.current_url.endswith("page=2")  # the page number is in the URL
    second = [a.get_attribute("href") for a in browser.find_elements(_by("CSS_SELECTOR"), "#hits a.title")]
    assert len(first) == 50 and second and not set(links) & set(second)
    assert f"rows 51–100 of {n:,}" in browser.find_element(_by("CSS_SELECTOR"), "nav.pager").text


def test_a_sql_link_runs_its_query(browser, ui_url: str, ui_store: Store) -> None:
    q = "SELECT count(*) AS n FROM korean_news WHERE label = 1"
    want = SqlSandbox(ui_store).query(q)[1][0][0]
    browser.get(f"{ui_url}/sql?q={quote(q)}")
    cells = _titles(browser, "#sql-result td")
    assert cells == [str(want)]
    share = browser.find_element(_by("ID"), "share").get_attribute("href")
    browser.get(share)  # the link reproduces the page
    assert _titles(browser, "#sql-result td") == [str(want)]


def test_the_json_download_parses(browser, ui_url: str, ui_store: Store) -> None:
    q = "SELECT id, title FROM korean_news ORDER BY id LIMIT 5"
    browser.get(f"{ui_url}/sql?q={quote(q)}")
    href = browser.find_element(_by("ID"), "json").get_attribute("href")
    text = browser.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);", href)
    assert json.loads(text) == SqlSandbox(ui_store).arrow(q).to_pylist()


def test_the_trends_axis_has_tick_labels_and_titles(browser, ui_url: str) -> None:
    browser.get(f"{ui_url}/trends?dataset=articles&q=police")
    ticks_x = [t.text for t in browser.find_elements(_by("CSS_SELECTOR"), "#trend text.tick.x")]
    ticks_y = [t.text for t in browser.find_elements(_by("CSS_SELECTOR"), "#trend text.tick.y")]
    titles = [t.text for t in browser.find_elements(_by("CSS_SELECTOR"), "#trend text.axis-title")]
    assert len(ticks_x) >= 2 and all(t[:2] in ("19", "20") for t in ticks_x), ticks_x  # dates
    assert ticks_y[0] == "0" and len(ticks_y) >= 2
    assert titles[1] == "documents mentioning the term" and titles[0].startswith("publication ")
    assert browser.find_element(_by("ID"), "trend").size["height"] > 100


def test_the_models_page_shows_a_confusion_matrix_with_label_names(browser, ui_url: str, ui_store: Store) -> None:
    names = set(label_names(ui_store, "korean_news").values())
    browser.get(f"{ui_url}/models")
    tables = browser.find_elements(_by("CSS_SELECTOR"), "table.confusion")
    assert tables
    header = [th.text for th in tables[0].find_elements(_by("CSS_SELECTOR"), "tr:first-of-type th")][1:]
    assert set(header) == names  # names, as on Articles, not 0-7
    rows = browser.find_elements(_by("CSS_SELECTOR"), "#models tr.model-row")
    assert rows and all(len(r.find_elements(_by("TAG_NAME"), "td")) == 6 for r in rows)
