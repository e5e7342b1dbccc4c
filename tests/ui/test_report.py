"""`nlpkit report` as a page people read, parsed as HTML and checked against the stored tables."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from nlpkit.features.build import index_name
from nlpkit.features.report import readable, write_report
from nlpkit.store import SqlSandbox, Store

NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")


class _Page(HTMLParser):
    """The page's own text (outside ``class="data"`` elements, which hold titles and terms from the
    documents), figure captions by id, cluster sections, and the bars' widths."""

    def __init__(self) -> None:
        super().__init__()
        self.own: list[str] = []
        self.captions: dict[str, str] = {}
        self.clusters: dict[int, dict[str, list]] = {}
        self.headings: list[str] = []
        self._stack: list[tuple[str, dict[str, str]]] = []
        self._cluster: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self._stack.append((tag, a))
        if tag == "h2":  # a new section: the clusters' bars end here
            self._cluster = None
        if tag == "div" and a.get("id", "").startswith("cluster-"):
            self._cluster = int(a["id"].split("-")[1])
            self.clusters[self._cluster] = {"terms": [], "titles": [], "widths": []}
        if tag == "span" and "bar" in a.get("class", "") and self._cluster is not None:
            self.clusters[self._cluster]["widths"].append(float(a["data-width"]))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            t, _ = self._stack.pop()
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if not data.strip() or any(t in ("style", "title") for t, _ in self._stack):
            return
        classes = " ".join(a.get("class", "") for _, a in self._stack).split()
        tag, attrs = self._stack[-1] if self._stack else ("", {})
        if tag == "figcaption":
            self.captions[attrs["id"]] = data.strip()
        if "data" in classes:
            if self._cluster is not None and "title" in classes:
                self.clusters[self._cluster]["titles"].append(data.strip())
            elif self._cluster is not None and "term" in classes:
                self.clusters[self._cluster]["terms"].append(data.strip())
            elif tag == "h3":
                self.headings.append(data.strip())
            return
        self.own.append(data)


@pytest.fixture(scope="module")
def report(ui_store: Store, tmp_path_factory: pytest.TempPathFactory) -> _Page:
    page = write_report(ui_store, "korean_news", tmp_path_factory.mktemp("report") / "korean_news")
    parsed = _Page()
    parsed.feed(page.read_text("utf-8"))
    return parsed


def _significant(number: str) -> int:
    digits = number.lstrip("-+").replace(",", "")
    if "." not in digits:
        digits = digits.rstrip("0") or "0"
    return len(digits.replace(".", "").lstrip("0")) or 1


def test_no_number_has_more_than_4_significant_digits(report: _Page) -> None:
    numbers = [n for text in report.own for n in NUMBER.findall(text)]
    assert len(numbers) > 20  # the page does print its numbers
    assert [n for n in numbers if _significant(n) > 4] == []


def test_numbers_have_human_names_and_no_internal_ones(report: _Page, ui_store: Store) -> None:
    text = " ".join(report.own)
    for key in ui_store.latest(index_name("korean_news")).manifest["numbers"]:
        assert key not in text
    assert "Label separation in the PCA picture" in text and "1 = tight separate groups" in text


def test_pca_caption_states_the_variance_kept(report: _Page, ui_store: Store) -> None:
    numbers = ui_store.latest(index_name("korean_news")).manifest["numbers"]
    kept = numbers["pca_explained_variance_2d"]
    assert kept < 0.25
    for fig in ("fig-pca_label", "fig-pca_cluster"):
        caption = report.captions[fig]
        assert f"The first 2 components keep {kept:.1%} of the variance" in caption
        assert "rough sketch" in caption and "overall shape" not in caption


def test_clusters_show_weighted_terms_and_member_titles(report: _Page, ui_store: Store) -> None:
    sb = SqlSandbox(ui_store)
    assert len(report.clusters) == sb.query("SELECT count(*) FROM clusters_summary "
                                            "WHERE dataset = 'korean_news'")[1][0][0]
    for cluster, shown in report.clusters.items():
        _, rows = sb.query(f"SELECT k.title FROM clusters c JOIN korean_news k ON k.id = c.id "
                           f"WHERE c.dataset = 'korean_news' AND c.cluster = {cluster}")
        assert 1 <= len(shown["titles"]) <= 5 and set(shown["titles"]) <= {r[0] for r in rows}
        _, kw = sb.query(f"SELECT term, weight FROM tfidf_keywords WHERE dataset = 'korean_news' "
                         f"AND scope = 'cluster' AND key = '{cluster}' ORDER BY rank")
        assert shown["terms"] == [t for t, _ in kw]
        top = max(w for _, w in kw)
        assert shown["widths"] == [round(100 * w / top, 1) for _, w in kw]  # bar length = weight, not rank


def test_label_keywords_are_under_label_names(report: _Page, ui_store: Store) -> None:
    _, rows = SqlSandbox(ui_store).query("SELECT DISTINCT category FROM korean_news")
    assert sorted(report.headings) == sorted(r[0] for r in rows)  # 정치, 경제, ... not 0-7


@pytest.mark.parametrize(("value", "kind", "want"), [
    (0.012601708294823766, "percent", "1.3%"), (0.00012, "percent", "0.012%"), (-0.12229554355144501, "score", "-0.122"),
    (0.3078461289405823, "score", "0.308"), (12345.678, "score", "1.23e+04"), (8, "int", "8"),
    (float("nan"), "score", "n/a"), (3e-9, "score", "0"),
])
def test_readable(value: float, kind: str, want: str) -> None:
    assert readable(value, kind) == want
