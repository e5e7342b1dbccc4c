"""Every source kind end to end against a local server: rss, sitemap, section, urls, directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug import Request, Response

from nlpkit.news.encoding import decode_html
from nlpkit.news.ingest import ingest
from nlpkit.news.newsstore import NewsStore
from nlpkit.news.sources import SourceSpec, links_from_feed, links_from_section, links_from_sitemap
from nlpkit.news.testing import load_korean_articles, synthetic_page
from nlpkit.store import Store
from tests.news.helpers import news_settings

NAVER_LINK = r"^https?://[^/]+/mnews/article/\d{3}/\d{10}"


@pytest.fixture(scope="module")
def korean(shared_data: Path):  # type: ignore[no-untyped-def]
    return load_korean_articles(shared_data, 40)


def _serve_articles(http, korean, paths: list[str]) -> None:  # type: ignore[no-untyped-def]
    for i, path in enumerate(paths):
        http.expect_request(path).respond_with_data(synthetic_page(korean[i], "generic", http.url_for(path)),
                                                    content_type="text/html; charset=utf-8")


def _log(store: Store) -> list[dict]:
    return store.read_appended("fetch_log").to_pylist()


def test_rss_feed_with_conditional_refetch(http, korean, store: Store) -> None:  # type: ignore[no-untyped-def]
    paths = [f"/news/{i}.html" for i in range(3)]
    _serve_articles(http, korean, paths)
    items = "".join(f"<item><title>t{i}</title><link>{http.url_for(p)}</link></item>" for i, p in enumerate(paths))
    feed = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f</title><link>{http.url_for("/")}</link>{items}</channel></rss>'
    seen_headers: list[str | None] = []

    def feed_handler(request: Request) -> Response:
        seen_headers.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(feed, content_type="application/rss+xml; charset=utf-8", headers={"ETag": '"v1"'})

    http.expect_request("/rss.xml").respond_with_handler(feed_handler)
    spec = SourceSpec(name="feed", kind="rss", url=http.url_for("/rss.xml"), outlet="피드일보", language="ko")
    first = ingest(store, news_settings([spec]), [spec])
    assert first.stored == 3
    second = ingest(store, news_settings([spec]), [spec])
    assert second.queued == 0 and second.stored == 0
    assert seen_headers == [None, '"v1"']
    discover = [r for r in _log(store) if r["stage"] == "discover"]
    assert [r["error_kind"] for r in discover] == ["ok", "not_modified"]
    rows = NewsStore(store).articles().to_pylist()
    assert sorted(r["title"] for r in rows) == sorted(a.title for a in korean[:3])
    assert {r["outlet"] for r in rows} == {"피드일보"}


def test_atom_and_rss_link_parsing() -> None:
    atom = ('<feed xmlns="http://www.w3.org/2005/Atom"><link rel="self" href="https://x.com/feed"/>'
            '<entry><link href="https://x.com/a/1"/></entry><entry><link rel="alternate" href="/a/2"/></entry></feed>')
    assert links_from_feed(atom, "https://x.com/") == ["https://x.com/a/1", "https://x.com/a/2"]
    rss = "<rss><channel><link>https://x.com/</link><item><link> https://x.com/b#c </link></item></channel></rss>"
    assert links_from_feed(rss, "https://x.com/") == ["https://x.com/b"]


def test_sitemap_index_and_news_sitemap(http, korean, store: Store) -> None:  # type: ignore[no-untyped-def]
    paths = [f"/2024/05/{i}.html" for i in range(4)]
    _serve_articles(http, korean, paths)
    urlset = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
              'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
              + "".join(f"<url><loc>{http.url_for(p)}</loc><news:news><news:title>t</news:title></news:news></url>" for p in paths)
              + f"<url><loc>{http.url_for('/about')}</loc></url></urlset>")
    index = (f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f'<sitemap><loc>{http.url_for("/news-sitemap.xml")}</loc></sitemap></sitemapindex>')
    http.expect_request("/sitemap.xml").respond_with_data(index, content_type="application/xml")
    http.expect_request("/news-sitemap.xml").respond_with_data(urlset, content_type="text/xml")
    pages, children = links_from_sitemap(index, http.url_for("/"))
    assert (pages, children) == ([], [http.url_for("/news-sitemap.xml")])
    spec = SourceSpec(name="smap", kind="sitemap", url=http.url_for("/sitemap.xml"), outlet="S", link_pattern=r"/2024/")
    report = ingest(store, news_settings([spec]), [spec])
    assert report.stored == 4 and report.queued == 4  # /about filtered out by link_pattern


def test_section_kind_on_the_real_euckr_naver_section_page(http, naver_html: Path, korean, store: Store) -> None:  # type: ignore[no-untyped-def]
    raw = (naver_html / "naver_section_politics_euckr.html").read_bytes()
    text = decode_html(raw).text
    expected = list(dict.fromkeys(m.group(1) for m in re.finditer(r'href="https://n\.news\.naver\.com(/mnews/article/\d{3}/\d{10})', text)))
    assert len(expected) > 20
    # the real page, served with its real bytes but its article host pointed at the local server
    local = raw.replace(b"https://n.news.naver.com", http.url_for("").rstrip("/").encode())
    http.expect_request("/main/main.naver").respond_with_data(local, content_type="text/html")  # no charset header
    _serve_articles(http, korean, expected[:30])
    found = links_from_section(decode_html(local).text, http.url_for("/"), NAVER_LINK)
    assert [re.sub(r"\?.*", "", u.split(http.url_for("").rstrip("/"))[1]) for u in found] == expected
    spec = SourceSpec(name="naver_politics", kind="section", url=http.url_for("/main/main.naver"), outlet="네이버 뉴스",
                      link_pattern=NAVER_LINK, section="정치", max_articles=30)
    report = ingest(store, news_settings([spec]), [spec])
    assert report.queued == 30 and report.stored == 30
    rows = NewsStore(store).articles().to_pylist()
    assert {r["language"] for r in rows} == {"ko"}


def test_directory_kind_on_the_real_naver_pages(naver_html: Path, store: Store) -> None:
    spec = SourceSpec(name="archive", kind="directory", path=naver_html, outlet="네이버 뉴스")
    report = ingest(store, news_settings([spec]), [spec])
    assert report.stored == 2 and report.kinds["no_article"] == 3
    rows = NewsStore(store).articles().to_pylist()
    assert {r["canonical_url"] for r in rows} == {"https://n.news.naver.com/mnews/article/018/0005316196",
                                                  "https://n.news.naver.com/mnews/article/016/0002194334"}
    again = ingest(store, news_settings([spec]), [spec])
    assert again.queued == 0  # finished files are not read again


def test_unknown_source_name_lists_the_declared_ones(naver_html: Path) -> None:
    from nlpkit.errors import ConfigError

    spec = SourceSpec(name="archive", kind="directory", path=naver_html, outlet="x")
    with pytest.raises(ConfigError, match="unknown news source.*nope.*archive"):
        news_settings([spec]).select(["nope"])


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "rss"}, "needs 'url'"),
    ({"kind": "section", "url": "https://a.b/"}, "needs 'link_pattern'"),
    ({"kind": "rss", "url": "ftp://a.b/"}, "needs 'url' with http"),
    ({"kind": "urls"}, "needs 'path'"),
    ({"kind": "rss", "url": "https://a.b/", "link_pattern": "("}, "not a valid regex"),
    ({"kind": "atom", "url": "https://a.b/"}, "Input should be"),
])
def test_bad_source_declarations_name_the_problem(fields: dict, message: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        SourceSpec(name="s", outlet="o", **fields)


def test_source_paths_in_flows_yaml_are_relative_to_the_file(tmp_path: Path) -> None:
    from nlpkit.settings import load_settings

    (tmp_path / "conf").mkdir()
    flows = tmp_path / "conf" / "flows.yaml"
    flows.write_text("news:\n  sources:\n    - {name: a, kind: urls, path: lists/urls.txt, outlet: x}\n"
                     "    - {name: b, kind: directory, path: /srv/pages, outlet: x}\n", encoding="utf-8")
    paths = [s.path for s in load_settings(flows).news.sources]
    assert paths == [tmp_path / "conf" / "lists" / "urls.txt", Path("/srv/pages")]


def test_unknown_news_key_is_an_error_naming_it(tmp_path: Path) -> None:
    from nlpkit.errors import ConfigError
    from nlpkit.settings import load_settings

    flows = tmp_path / "flows.yaml"
    flows.write_text("news:\n  fetch:\n    per_host_dealy: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"news\.fetch\.per_host_dealy.*unknown key; allowed here: user_agent, per_host_concurrency"):
        load_settings(flows)


def test_ingest_works_inside_a_running_event_loop(naver_html: Path, store: Store) -> None:
    import asyncio

    spec = SourceSpec(name="archive", kind="directory", path=naver_html, outlet="n")

    async def notebook_cell() -> int:
        return ingest(store, news_settings([spec]), [spec]).stored

    assert asyncio.run(notebook_cell()) == 2


def test_directory_with_non_ascii_names_and_gzipped_pages(naver_html: Path, store: Store, tmp_path: Path) -> None:
    import gzip

    folder = tmp_path / "저장된 기사"
    folder.mkdir()
    (folder / "기사 1.html").write_bytes((naver_html / "naver_article_edaily_2022-09-14_utf8.html").read_bytes())
    (folder / "b.html.gz").write_bytes(gzip.compress((naver_html / "naver_article_heraldcorp_2023-09-07_utf8.html").read_bytes()))
    (folder / "notes.txt").write_text("not a page")
    spec = SourceSpec(name="saved", kind="directory", path=folder, outlet="n")
    report = ingest(store, news_settings([spec]), [spec])
    assert (report.queued, report.stored) == (2, 2)


@pytest.mark.parametrize("name", ["naver_section_politics_2026_utf8.html", "naver_section_politics_euckr.html"])
def test_shipped_naver_section_source_finds_the_articles_of_real_section_pages(naver_html: Path, name: str) -> None:
    from nlpkit.settings import load_settings

    spec = next(s for s in load_settings(Path(__file__).resolve().parents[2] / "flows.yaml").news.sources
                if s.name == "naver_politics")
    text = decode_html((naver_html / name).read_bytes()).text
    found = links_from_section(text, spec.url, spec.link_pattern, spec.max_articles)
    ids = set(re.findall(r"n\.news\.naver\.com/mnews/article/(\d{3}/\d{10})", text))
    assert len(found) == len(ids) > 20
    assert {re.search(r"\d{3}/\d{10}", u).group(0) for u in found} == ids
