"""The web app accepts only what it should (issue 19): each probe that got through, as a regression test.

Host allow-list (DNS rebinding), request-body cap, same-origin POSTs (even state-less ones), one 400
line for every bad parameter (never a 500), and downloads that say when their query failed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from starlette.datastructures import QueryParams
from starlette.testclient import TestClient

from nlpkit.store import Store
from nlpkit.ui import app as ui_app
from nlpkit.ui.app import create_app
from nlpkit.ui.guards import ParamError, host_name, int_param

Q = "SELECT i, 'row ' || i AS s FROM range(20) t(i)"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = Store(tmp_path_factory.mktemp("guards") / "data")
    s.append("runs", pa.table({"run": ["a", "b"], "seconds": [1.0, 2.0]}))
    return s


@pytest.fixture(scope="module")
def app(store: Store):  # type: ignore[no-untyped-def]
    return create_app(store, warm=False, allowed_hosts=("analysis.lan",), max_body=64 << 10)


def _client(app, base: str = "http://127.0.0.1:8501") -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, base_url=base, raise_server_exceptions=False)


# -- Host -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("base", ["http://attacker.example:8501", "http://attacker.example", "http://127.0.0.1.nip.io",
                                  "http://localhost.attacker.example:8501", "http://10.0.0.5:8501"])
def test_a_foreign_host_gets_no_rows(app, base: str) -> None:  # type: ignore[no-untyped-def]
    r = _client(app, base).get("/sql/download", params={"format": "csv", "q": "SELECT * FROM runs"})
    assert r.status_code == 400 and r.text.startswith("error: Host ") and r.text.count("\n") == 1
    assert "--allow-host" in r.text and "run" not in r.text.split("\n", 1)[1]


@pytest.mark.parametrize("base", ["http://127.0.0.1:8501", "http://localhost:8501", "http://[::1]:8501",
                                  "http://LOCALHOST", "http://analysis.lan:8501"])
def test_loopback_and_configured_hosts_are_served(app, base: str) -> None:  # type: ignore[no-untyped-def]
    r = _client(app, base).get("/sql/download", params={"format": "csv", "q": "SELECT run FROM runs ORDER BY 1"})
    assert r.status_code == 200 and r.text.split() == ['"run"', '"a"', '"b"']


def test_host_name_strips_port_and_brackets() -> None:
    assert [host_name(h) for h in ("127.0.0.1:80", "[::1]:8501", "::1", "Localhost", "")] == \
        ["127.0.0.1", "::1", "::1", "localhost", ""]


# -- body cap ---------------------------------------------------------------------------------------
def test_a_body_over_the_cap_is_refused_before_it_is_read(app) -> None:  # type: ignore[no-untyped-def]
    big = "q=" + "A" * (200 << 10)
    r = _client(app).post("/sql", content=big, headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and r.text.startswith("error: request body over 65,536 bytes refused")
    assert len(r.content) < 200  # nothing echoed back


def test_a_chunked_body_over_the_cap_is_stopped_while_it_streams(app) -> None:  # type: ignore[no-untyped-def]
    def chunks() -> Iterator[bytes]:
        yield b"q="
        for _ in range(100):
            yield b"A" * 4096

    r = _client(app).post("/sql", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "request body over 65,536 bytes" in r.text


# -- same-origin POSTs ------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [
    {"origin": "http://attacker.example"},
    {"origin": "http://127.0.0.1:9999"},  # another local site is another origin
    {"origin": "null"},
    {"referer": "http://attacker.example/page.html"},
    {"sec-fetch-site": "cross-site"},
])
def test_a_cross_origin_post_is_refused(app, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    r = _client(app).post("/sql", data={"q": "SELECT * FROM runs"}, headers=headers)
    assert r.status_code == 403 and r.text.startswith("error: ") and "refused" in r.text
    assert "<table" not in r.text


@pytest.mark.parametrize("headers", [{"origin": "http://127.0.0.1:8501"}, {"referer": "http://127.0.0.1:8501/sql"},
                                     {"sec-fetch-site": "same-origin"}, {}])
def test_a_same_origin_post_runs(app, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    r = _client(app).post("/sql", data={"q": "SELECT run FROM runs ORDER BY 1"}, headers=headers)
    assert r.status_code == 200 and 'id="sql-result"' in r.text


# -- parameters -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "message"), [
    ("/trends?days=999999999", "days=999999999: use a whole number from 1 to 3650"),
    ("/trends?days=abc", "days=&#39;abc&#39;: expected a whole number from 1 to 3650"),
    ("/trends?days=-3", "days=-3: use a whole number from 1 to 3650"),
    ("/trends?days=0", "days=0: use a whole number from 1 to 3650"),
    ("/trends?days=1e9", "days=&#39;1e9&#39;: expected a whole number"),
    ("/trends?days=%C2%B3", "days=&#39;³&#39;: expected a whole number"),
    ("/topics?cluster=abc", "cluster=&#39;abc&#39;: expected a whole number"),
    ("/topics?cluster=99999999999999999999", "cluster=&#39;99999999999999999999&#39;: expected a whole number"),
])
def test_a_bad_parameter_is_one_400_line(app, url: str, message: str) -> None:  # type: ignore[no-untyped-def]
    r = _client(app).get(url)
    assert r.status_code == 400, r.text[:300]
    errors = re.findall(r'id="error">([^<]*)<', r.text)
    assert len(errors) == 1 and errors[0].startswith(message), errors


@pytest.mark.parametrize("url", ["/sql/download?format=xlsx&q=SELECT+1", "/sql/download?format=csv&q=DROP+TABLE+runs",
                                 "/sql/download?format=csv&q=SELECT+*+FROM+nosuch", "/sql/download?format=csv"])
def test_a_bad_download_is_one_400_line(app, url: str) -> None:  # type: ignore[no-untyped-def]
    r = _client(app).get(url)
    assert r.status_code == 400 and r.text.startswith("error: ") and r.text.count("\n") == 1


def test_int_param_bounds() -> None:
    assert int_param(QueryParams("days="), "days", 7, lo=1, hi=10) == 7
    assert int_param(QueryParams("days=10"), "days", 7, lo=1, hi=10) == 10
    with pytest.raises(ParamError, match="days=11"):
        int_param(QueryParams("days=11"), "days", 7, lo=1, hi=10)


def test_the_trends_probe_on_real_articles(client) -> None:  # type: ignore[no-untyped-def]
    """The reported probe, on the scraped articles (which have dates): a 400 line, not a 500 traceback."""
    r = client.get("/trends", params={"dataset": "articles", "days": "999999999"})
    assert r.status_code == 400 and "days=999999999: use a whole number from 1 to 3650" in r.text
    assert client.get("/trends", params={"dataset": "articles", "days": "3650"}).status_code == 200


# -- downloads that fail say so --------------------------------------------------------------------
def test_a_download_whose_query_fails_mid_stream_is_a_400_with_the_error(app) -> None:  # type: ignore[no-untyped-def]
    """Rows stream out for a while, then the query fails: before, a 200 with a cut connection."""
    q = "SELECT CASE WHEN i < 50000 THEN i ELSE error('boom at ' || i) END AS i FROM range(100000) t(i)"
    for fmt in ("csv", "parquet"):
        r = _client(app).get("/sql/download", params={"format": fmt, "q": q})
        assert r.status_code == 400 and r.text.startswith("error: query failed: ") and "boom at 50000" in r.text


def test_a_download_over_the_byte_cap_is_a_400(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ui_app, "DOWNLOAD_BYTES", 100 << 10)
    r = _client(app).get("/sql/download", params={"format": "csv", "q": "SELECT repeat('x', 1000) FROM range(1000)"})
    assert r.status_code == 400 and r.text.startswith("error: ") and "100KB" in r.text and "cap" in r.text
    ok = _client(app).get("/sql/download", params={"format": "csv", "q": Q})
    assert ok.status_code == 200 and ok.headers["content-length"] == str(len(ok.content))
