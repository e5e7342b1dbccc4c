"""`nlpkit ui` in a real headless Chromium, on the real korean_news and saved news pages.

Each test drives the page the way a person would (type, submit, click) and checks what the page
shows against the store (read through the SQL sandbox, independently of the app).
"""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import numpy as np
import pytest

from nlpkit.store import SqlSandbox, Store

pytestmark = pytest.mark.usefixtures("ui_url")


def _by(kind: str):  # noqa: ANN202 - selenium's By, imported lazily (the browser fixture skips without it)
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def _click_and_wait(browser, element) -> None:
    """Click a link or submit button and wait for the next page (a click does not wait for navigation)."""
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.wait import WebDriverWait

    old = browser.find_element(_by("TAG_NAME"), "html")
    element.click()
    WebDriverWait(browser, 20).until(ec.staleness_of(old))


def _count(store: Store, table: str) -> int:
    return int(SqlSandbox(store).query(f"SELECT count(*) FROM {table}")[1][0][0])


def _titles(browser, css: str) -> list[str]:
    return [e.text for e in browser.find_elements(_by("CSS_SELECTOR"), css)]


def test_search_finds_a_known_article(browser, ui_url: str, ui_store: Store) -> None:
    _, rows = SqlSandbox(ui_store).query("SELECT title FROM korean_news WHERE title LIKE '%SK하이닉스, 반도체 광고%'")
    known = rows[0][0]
    browser.get(f"{ui_url}/articles?dataset=korean_news")
    box = browser.find_element(_by("ID"), "q")
    box.clear()
    box.send_keys("반도체 광고")
    _click_and_wait(browser, browser.find_element(_by("CSS_SELECTOR"), "#search button[type=submit]"))
    titles = _titles(browser, "#hits a.title")
    assert known in titles[:3], titles[:5]
    # the filter by label keeps only that label's articles
    browser.get(f"{ui_url}/articles?dataset=korean_news&q={quote('반도체')}&label={quote('경제')}")
    metas = _titles(browser, "#hits .meta")
    assert metas and all("경제" in m for m in metas)


def test_clicking_a_neighbour_opens_it(browser, ui_url: str, ui_store: Store) -> None:
    _, rows = SqlSandbox(ui_store).query(
        "SELECT s.doc, k.title FROM similar_docs s JOIN korean_news k ON k.id = s.neighbour "
        "JOIN korean_news d ON d.id = s.doc WHERE s.dataset = 'korean_news' AND s.rank = 1 AND s.score < 0.9 "
        "AND d.title <> k.title ORDER BY s.score DESC, s.doc LIMIT 1")
    doc, best_title = rows[0]
    browser.get(f"{ui_url}/article?dataset=korean_news&id={quote(doc)}")
    first = browser.find_element(_by("CSS_SELECTOR"), "#neighbours a.title")
    assert first.text == best_title
    score = browser.find_element(_by("CSS_SELECTOR"), "#neighbours .meta").text
    assert re.search(r"score 0\.\d{3}$", score), score  # rounded for people
    assert not score.startswith("·")
    _click_and_wait(browser, first)
    assert browser.find_element(_by("ID"), "article-title").text == best_title
    assert "id=" in browser.current_url and quote(doc) not in browser.current_url


def test_a_cluster_lists_its_titles(browser, ui_url: str, ui_store: Store) -> None:
    browser.get(f"{ui_url}/topics?dataset=korean_news")
    link = browser.find_elements(_by("CSS_SELECTOR"), "#clusters a.cluster")[0]
    cluster = int(link.text.split()[-1])
    _click_and_wait(browser, link)
    shown = _titles(browser, "#members a.title")
    _, rows = SqlSandbox(ui_store).query(
        f"SELECT k.title FROM clusters c JOIN korean_news k ON k.id = c.id WHERE c.dataset = 'korean_news' "
        f"AND c.cluster = {cluster}")
    members = {r[0] for r in rows}
    assert shown and set(shown) <= members
    assert f"{len(rows):,} documents" in browser.find_element(_by("ID"), "members-title").text
    # the scatter: one linked point per document, hover titles are real titles, the caption says the variance kept
    points = browser.find_elements(_by("CSS_SELECTOR"), "#scatter a.pt")
    assert len(points) == _count(ui_store, "korean_news")  # every document (fewer than the 2,000 sampled)
    assert "keep" in browser.find_element(_by("ID"), "variance").text and "%" in \
        browser.find_element(_by("ID"), "variance").text


def test_scatter_click_opens_the_article(browser, ui_url: str, ui_store: Store) -> None:
    browser.get(f"{ui_url}/topics?dataset=korean_news")
    circle = browser.find_elements(_by("CSS_SELECTOR"), "#scatter circle")[7]
    doc = circle.get_attribute("data-id")
    hover = circle.find_element(_by("TAG_NAME"), "title").get_attribute("textContent")
    _, rows = SqlSandbox(ui_store).query(f"SELECT title FROM korean_news WHERE id = '{doc}'")
    assert hover.startswith(rows[0][0])
    old = browser.find_element(_by("TAG_NAME"), "html")
    browser.execute_script("arguments[0].parentNode.dispatchEvent(new MouseEvent('click', {bubbles: true}))", circle)
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.wait import WebDriverWait

    WebDriverWait(browser, 20).until(ec.staleness_of(old))
    assert browser.find_element(_by("ID"), "article-title").text == rows[0][0]


def test_trend_chart_renders_for_a_real_term(browser, ui_url: str, ui_store: Store) -> None:
    _, rows = SqlSandbox(ui_store).query(
        "SELECT count(*) FROM articles WHERE duplicate_of IS NULL AND published_at >= TIMESTAMP '1900-01-01' "
        "AND regexp_matches(lower(title || ' ' || body), '\\bpolice\\b')")
    mentioning = rows[0][0]
    assert mentioning >= 3  # the saved pages do talk about the police
    browser.get(f"{ui_url}/trends?dataset=articles")
    box = browser.find_element(_by("ID"), "q")
    box.send_keys("police")
    _click_and_wait(browser, browser.find_element(_by("CSS_SELECTOR"), "#trend-form button"))
    lines = browser.find_elements(_by("CSS_SELECTOR"), "#trend polyline.series")
    assert lines
    counts = [int(v) for line in lines for v in line.get_attribute("data-counts").split(",")]
    assert 0 < sum(counts) <= mentioning
    markers = [int(t.get_attribute("textContent").rsplit(": ", 1)[1])
               for t in browser.find_elements(_by("CSS_SELECTOR"), "#trend circle title")]
    assert sorted(markers) == sorted(c for c in counts if c)  # hover text on every period with mentions
    assert "police" in browser.find_element(_by("ID"), "trend-note").text
    assert browser.find_element(_by("ID"), "trend").size["height"] > 100
    # the burst table explains itself and lists real terms
    assert "log2" in browser.page_source


def test_sql_box_refuses_a_write(browser, ui_url: str, ui_store: Store) -> None:
    before = SqlSandbox(ui_store).query("SELECT count(*) FROM korean_news")[1][0][0]
    browser.get(f"{ui_url}/sql?dataset=korean_news")
    box = browser.find_element(_by("ID"), "sql")
    box.clear()
    box.send_keys("DELETE FROM korean_news")
    _click_and_wait(browser, browser.find_element(_by("ID"), "run"))
    error = browser.find_element(_by("ID"), "sql-error").text
    assert error.startswith("refused DELETE statement")
    assert _count(ui_store, "korean_news") == before == 320
    # a read works and offers the downloads
    box = browser.find_element(_by("ID"), "sql")
    box.clear()
    box.send_keys("SELECT category, count(*) AS n FROM korean_news GROUP BY 1 ORDER BY 1")
    _click_and_wait(browser, browser.find_element(_by("ID"), "run"))
    cells = _titles(browser, "#sql-result td")
    assert "경제" in cells and browser.find_element(_by("ID"), "csv").get_attribute("href")


def _png(element) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(element.screenshot_as_png)).convert("L"), dtype=np.int16)


def test_korean_renders_with_real_glyphs(browser, ui_url: str, ui_store: Store) -> None:
    """Screenshots: the title is not blank, and Korean syllables differ from each other and from tofu."""
    _, rows = SqlSandbox(ui_store).query("SELECT id, title FROM korean_news ORDER BY id LIMIT 1")
    browser.get(f"{ui_url}/article?dataset=korean_news&id={quote(rows[0][0])}")
    title = browser.find_element(_by("ID"), "article-title")
    assert title.text == rows[0][1]
    shot = _png(title)
    assert (shot < 128).mean() > 0.02, "the Korean title rendered blank"
    browser.execute_script("""
        for (const [id, ch] of [['g1', '반'], ['g2', '도'], ['tofu', '\\uE000']]) {
          const s = document.createElement('span'); s.id = id; s.textContent = ch;
          s.style.cssText = 'font-size:48px; display:inline-block; width:64px; height:64px; background:#fff';
          document.getElementById('article-title').after(s);
        }""")
    g1, g2, tofu = (_png(browser.find_element(_by("ID"), i)) for i in ("g1", "g2", "tofu"))
    assert (g1 < 128).sum() > 50 and (g2 < 128).sum() > 50
    assert np.abs(g1 - g2).mean() > 3, "two different syllables drew the same shape (tofu boxes)"
    assert np.abs(g1 - tofu).mean() > 3, "a Korean syllable drew like a missing-glyph box"


def test_predict_box_in_the_browser(browser, ui_url: str, ui_store: Store) -> None:
    from nlpkit.datasets.registry import BUILDERS

    browser.get(f"{ui_url}/models")
    box = browser.find_element(_by("ID"), "predict-text")
    box.send_keys("북한과 미국 정상회담 일정이 발표됐다")
    _click_and_wait(browser, browser.find_element(_by("ID"), "predict"))
    label = browser.find_element(_by("CSS_SELECTOR"), "#prediction .label").text
    assert label in set(BUILDERS["korean_news"].label_names.values())  # a name, not an id
    assert 0 < float(browser.find_element(_by("CSS_SELECTOR"), "#prediction .probability").text) <= 1
