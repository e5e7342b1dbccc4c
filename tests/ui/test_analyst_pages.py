"""The analyst's pages (related words, stories, outlets) in headless Chromium, on the real korean_press posts.

Each test checks what the page shows against the library's own answer on the same store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest

from nlpkit.store import Store
from tests.ui.conftest import running_ui

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def press_ui_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """korean_press with its features (search) and analyst tables, as `make run` builds them."""
    from nlpkit.datasets.registry import rebuild
    from nlpkit.features.analysis import build_analysis
    from nlpkit.features.build import BuildOptions, build_features

    store = Store(tmp_path_factory.mktemp("press-ui") / "data")
    rebuild(store, "korean_press", str(shared_data / "korean_press_tweets"))
    build_features(store, "korean_press", BuildOptions(tokenizer="kiwi", k_values=(6,), pca_components=10))
    build_analysis(store, "korean_press")
    return store


@pytest.fixture(scope="module")
def press_url(press_ui_store: Store) -> Iterator[str]:
    with running_ui(press_ui_store, "/healthz") as url:
        yield url


def _by(kind: str):  # noqa: ANN202
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def _click_and_wait(browser, element) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.wait import WebDriverWait

    old = browser.find_element(_by("TAG_NAME"), "html")
    element.click()
    WebDriverWait(browser, 20).until(ec.staleness_of(old))


def test_related_graph_shows_korean_labels_and_a_click_opens_the_search(browser, press_url: str,
                                                                        press_ui_store: Store) -> None:
    from nlpkit.features.docterms import load_doc_terms
    from nlpkit.features.related import related_words

    _, n_x, want = related_words(load_doc_terms(press_ui_store, "korean_press"), "사드", n=20)
    browser.get(f"{press_url}/related?dataset=korean_press&q={quote('사드')}")
    labels = browser.find_elements(_by("CSS_SELECTOR"), "#related-graph a.node text")
    assert [e.text for e in labels] == ["사드", *[r.term for r in want]]
    assert all(e.rect["width"] > 4 for e in labels)  # drawn with a font that has the Hangul glyphs
    edges = browser.find_elements(_by("CSS_SELECTOR"), "#related-graph line.edge")
    widths = [float(e.get_attribute("stroke-width")) for e in edges]
    assert len(edges) == len(want) and widths == sorted(widths, reverse=True)  # strongest association first
    rows = browser.find_elements(_by("CSS_SELECTOR"), "#related tr")[1:]
    assert [r.find_elements(_by("TAG_NAME"), "td")[1].text for r in rows] == [r.term for r in want]
    # clicking a node opens the search for that word, which finds documents holding it
    node = browser.find_element(_by("CSS_SELECTOR"), f'#related-graph a.node[data-term="{want[0].term}"] circle')
    _click_and_wait(browser, node)
    parsed = urlparse(browser.current_url)
    assert parsed.path == "/articles" and parse_qs(parsed.query)["q"] == [want[0].term]
    assert browser.find_elements(_by("CSS_SELECTOR"), "#hits a.title")


def test_stories_page_lists_outlets_and_times(browser, press_url: str, press_ui_store: Store) -> None:
    from nlpkit.features.storyview import read_stories

    want, _ = read_stories(press_ui_store, "korean_press", since="2017-08-01", until="2017-08-11", n=20)
    browser.get(f"{press_url}/stories?dataset=korean_press&since=2017-08-01&until=2017-08-11")
    rows = browser.find_elements(_by("CSS_SELECTOR"), "#stories tr.story")
    assert [r.get_attribute("data-story") for r in rows] == [str(s["story"]) for s in want]
    outlets = [r.find_element(_by("CSS_SELECTOR"), "td.outlets").text for r in rows]
    assert outlets[0] == want[0]["outlets"] and len(outlets[0].split(", ")) >= 3
    assert set(", ".join(outlets).split(", ")) <= {"조선일보", "동아일보", "중앙일보", "한국경제", "한겨레", "경향신문"}
    assert want[0]["first_kst"] in rows[0].text
    if len(want) == 20:  # page 2 shows other stories
        _click_and_wait(browser, browser.find_element(_by("ID"), "next"))
        again = [r.get_attribute("data-story") for r in browser.find_elements(_by("CSS_SELECTOR"), "#stories tr.story")]
        assert again and not set(again) & {str(s["story"]) for s in want}


def test_outlets_page_table_and_chart_with_titled_axes(browser, press_url: str) -> None:
    browser.get(f"{press_url}/outlets?dataset=korean_press&by=outlet_group&q={quote('사드')}")
    table = browser.find_element(_by("ID"), "distinguishing").text
    assert "right" in table and "文" in table and "北" in table
    titles = [e.text for e in browser.find_elements(_by("CSS_SELECTOR"), "#share-chart text.axis-title")]
    assert titles == ["period (KST)", "% of the outlet's documents"]
    assert len(browser.find_elements(_by("CSS_SELECTOR"), "#share-chart text.tick.x")) >= 3
    groups = {e.get_attribute("data-group") for e in browser.find_elements(_by("CSS_SELECTOR"), "#share-chart polyline")}
    assert groups == {"left", "right"}
    # a term in the table links to its coverage
    link = browser.find_element(_by("CSS_SELECTOR"), "#distinguishing a.kw")
    term = link.text.rsplit(" (", 1)[0]
    _click_and_wait(browser, link)
    assert parse_qs(urlparse(browser.current_url).query)["q"] == [term]
    assert browser.find_elements(_by("CSS_SELECTOR"), "#share-chart polyline")
