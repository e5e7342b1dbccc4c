"""The web app: Starlette routes rendering server-side HTML (Jinja2) from :class:`Explorer` answers.

Why Starlette and not Streamlit or Dash (measured on this machine, a one-table page each): ready
in 0.26 s / 30 MiB against 0.90 s / 75 MiB (Streamlit) and 0.57 s / 52 MiB (Dash), and the
first HTML already holds the page's content, so a headless browser (or a plain HTTP client)
tests it without waiting for a client-side render; every interaction is a plain GET/POST.

Pages: ``/articles`` (search + filters), ``/article`` (body, keywords, neighbours, cluster),
``/topics`` (clusters, members, projection scatter), ``/trends`` (term counts, bursts),
``/models`` (one row per model with its confusion matrix, run history), ``/sql`` (sandboxed query box;
``/sql?q=...`` runs the query, so a query is a link; CSV/JSON/Parquet download), ``/schema`` (each table's
columns and types), ``/healthz`` (``preloading`` until the start-up preload is over, then ``ready``).
Every expected failure is shown on the page as one line (HTTP 400); bad parameters too (read
through :func:`nlpkit.ui.guards.int_param` / ``choice_param``). :class:`nlpkit.ui.guards.RequestGuard`
answers only allowed Host names, caps request bodies and refuses cross-origin POSTs. Analysts' SQL
runs in a child process (:class:`nlpkit.store.sql_worker.IsolatedSandbox`: killed at the time limit or
past its memory cap); a download is run to a bounded spool first, so a failed query is a 400 with
its error line, never a cut-off 200.
"""

from __future__ import annotations

import logging
import math
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from nlpkit.errors import NlpkitError
from nlpkit.store import Store
from nlpkit.store.sql_worker import IsolatedSandbox
from nlpkit.ui.charts import heat, lines_svg
from nlpkit.ui.analyst import ANALYST_PAGES, EMPTY as _ANALYST_EMPTY, analyst_routes
from nlpkit.ui.explorer import Explorer
from nlpkit.ui.guards import DEFAULT_MAX_BODY, RequestGuard, choice_param, int_param
from nlpkit.ui.models import AUTO
from nlpkit.ui.paging import PER_PAGE, page_number, pager

__all__ = ["create_app", "DOWNLOAD_ROWS", "PAGES"]

log = logging.getLogger(__name__)
PAGES = [("/articles", "Articles"), ("/topics", "Topics and clusters"), ("/trends", "Trends"),
         ("/models", "Models and runs"), ("/sql", "SQL"), ("/schema", "Schema"), *ANALYST_PAGES]
_FILTERS = ("outlet", "section", "language", "label", "split", "topic", "since", "until")
_BURST_HELP = ("Burst = log2 of (share of last-window documents mentioning the term) over (its share in the "
               "previous window), each count +0.5; +1 means the share doubled. Terms in fewer than 2 documents of "
               "the last window are left out.")
_SQL_ROWS = 500
_MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json", "parquet": "application/vnd.apache.parquet"}
DOWNLOAD_ROWS = 200_000  # a download stops here (said on the SQL page); `nlpkit query --out` has no cap
DOWNLOAD_BYTES = 256 << 20  # ... and here: the spool a download is run into before a byte is sent
_SPOOL_IN_MEMORY = 8 << 20
MAX_DAYS = 3650


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4g}"
    s = str(v)
    return s if len(s) <= 300 else s[:300] + " …"


def create_app(store: Store, *, warm: bool = True, allowed_hosts: tuple[str, ...] = (),
               max_body: int = DEFAULT_MAX_BODY) -> Starlette:
    """The app over ``store``; with ``warm`` a background thread preloads every dataset at start-up.

    It answers Host ``127.0.0.1``, ``localhost``, ``::1`` and ``allowed_hosts``; request bodies over
    ``max_body`` bytes are refused (see :mod:`nlpkit.ui.guards`).
    """
    explorer = Explorer(store)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                             autoescape=True, undefined=jinja2.Undefined)
    env.globals.update(heat=heat, fmt=_fmt)

    def page(request: Request, template: str, title: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        datasets = explorer.datasets()
        dataset = ctx.pop("dataset", None) or _dataset(request, datasets)
        html = env.get_template(template).render(request=request, title=title, pages=PAGES, datasets=datasets,
                                                 dataset=dataset, error=ctx.pop("error", None), **ctx)
        return HTMLResponse(html, status_code=status)

    def _dataset(request: Request, datasets: list[str]) -> str:
        return request.query_params.get("dataset") or (datasets[0] if datasets else "")

    def guarded(render: Callable[[Request], HTMLResponse], template: str, title: str
                ) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                return render(request)
            except NlpkitError as e:  # an expected failure: one line on the page
                return page(request, template, title, status=400, error=str(e), **_empty(template))
        return endpoint

    def articles(request: Request) -> HTMLResponse:
        p = request.query_params
        dataset = _dataset(request, explorer.datasets())
        c = explorer.corpus(dataset)
        filters = {k: p.get(k, "") for k in _FILTERS if p.get(k)}
        facets = c.facets()
        topics = explorer.topics(dataset)
        if topics is not None:
            facets = [*facets, ("topic", topics.values())]
        wanted = page_number(p)
        result = explorer.search(dataset, p.get("q", ""), filters, limit=PER_PAGE, offset=(wanted - 1) * PER_PAGE)
        pg = pager(p, "/articles", result.total, PER_PAGE)
        if pg.page != wanted:  # past the end: the last page
            result = explorer.search(dataset, p.get("q", ""), filters, limit=PER_PAGE, offset=pg.offset)
        return page(request, "articles.html", "Articles", dataset=dataset, q=p.get("q", ""), filters=filters,
                    facets=facets, has_time=c.has("time"), result=result, pg=pg)

    def article(request: Request) -> HTMLResponse:
        p = request.query_params
        dataset = _dataset(request, explorer.datasets())
        view = explorer.article(dataset, p.get("id", ""))
        return page(request, "article.html", view.hit.title or "Article", dataset=dataset, view=view)

    def topics(request: Request) -> HTMLResponse:
        p = request.query_params
        dataset = _dataset(request, explorer.datasets())
        method = p.get("method", "pca")
        proj = explorer.projection(dataset, method)
        members, total, cluster, pg = None, 0, p.get("cluster"), None
        if cluster not in (None, ""):
            number = int_param(p, "cluster", 0, lo=-1, hi=10**6)
            wanted = page_number(p)
            members, total = explorer.cluster_members(dataset, number, limit=PER_PAGE,
                                                      offset=(wanted - 1) * PER_PAGE)
            pg = pager(p, "/topics", total, PER_PAGE)
            if pg.page != wanted:
                members, total = explorer.cluster_members(dataset, number, limit=PER_PAGE, offset=pg.offset)
        return page(request, "topics.html", "Topics and clusters", dataset=dataset, clusters=explorer.clusters(dataset),
                    members=members, member_total=total, cluster=cluster, method=method, projection=proj, pg=pg,
                    scatter=explorer.scatter(dataset, method))

    def trends(request: Request) -> HTMLResponse:
        p = request.query_params
        dataset = _dataset(request, explorer.datasets())
        q, period = p.get("q", ""), p.get("period", "auto")  # an unknown period is the trend's own 400 line
        days = int_param(p, "days", 7, lo=1, hi=MAX_DAYS)
        series = chart = None
        if q.strip():
            series = explorer.trend(dataset, q, period)
            chart = lines_svg(series.periods, series.counts, x_title=f"publication {series.period} (UTC)",
                              y_title="documents mentioning the term")
        try:
            burst_rows, burst_note = explorer.bursts(dataset, days=days)
            error = None
        except NlpkitError as e:
            burst_rows, burst_note, error = [], "", str(e)
        return page(request, "trends.html", "Trends", dataset=dataset, q=q, period=period, days=days, series=series,
                    chart=chart, burst_rows=burst_rows, burst_note=burst_note, burst_help=_BURST_HELP, error=error)

    def models(request: Request) -> HTMLResponse:
        p = request.query_params
        cols, all_rows = explorer.runs(limit=100_000)
        pg = pager(p, "/models", len(all_rows), PER_PAGE, key="runs_page")
        rows = all_rows[pg.offset:pg.offset + pg.per_page]
        saved = explorer.saved_models()
        key, text = p.get("model") or AUTO, p.get("text", "")
        predicted, error = None, None
        if "text" in p:
            try:
                predicted = explorer.predict(key, text)
            except NlpkitError as e:  # the rest of the page still shows
                error = str(e)
        return page(request, "models.html", "Models and runs", status=400 if error else 200, runs=explorer.model_runs(),
                    run_cols=cols, run_rows=rows, saved=saved, model=key, text=text, predicted=predicted,
                    error=error, pg=pg)

    def sql(request: Request) -> HTMLResponse:
        """The query box; with ``?q=...`` the query runs (a query is a link; the sandbox is read-only)."""
        q = request.query_params.get("q")
        if q is None or not q.strip():
            return page(request, "sql.html", "SQL", q=q or "SELECT * FROM model_runs LIMIT 20", tables=_tables(),
                        result=None, sql_error=None, cap=DOWNLOAD_ROWS)
        return _run_sql(request, q)

    def _run_sql(request: Request, q: str) -> HTMLResponse:
        try:
            result, error = user_sql().fetch(q, limit=_SQL_ROWS), None
        except NlpkitError as e:
            result, error = None, str(e)
        return page(request, "sql.html", "SQL", status=400 if error else 200, q=q, tables=_tables(),
                    result=result, sql_error=error, cap=DOWNLOAD_ROWS)

    def schema(request: Request) -> HTMLResponse:
        return page(request, "schema.html", "Schema", schema=explorer.schema())

    def _tables() -> list[str]:
        return explorer.tables()

    async def sql_post(request: Request) -> Response:
        from urllib.parse import parse_qs

        body = (await request.body()).decode("utf-8", errors="replace")  # a plain urlencoded form
        q = parse_qs(body).get("q", [""])[0]
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_run_sql, request, q)

    def user_sql() -> IsolatedSandbox:
        """The sandbox for SQL an analyst typed: a child process per query, stopped at the time limit."""
        return IsolatedSandbox(store, timeout=explorer.sql_timeout, warm=True)  # a child started ahead

    def sql_download(request: Request) -> Response:
        """The query's result as CSV, JSON or Parquet, at most ``DOWNLOAD_ROWS`` rows and ``DOWNLOAD_BYTES`` bytes.

        The whole file is written to a spool (memory, then a temporary file) before the first byte
        is sent: a query that fails or passes a cap is a 400 with its error line, not a 200 cut short.
        """
        try:
            fmt = choice_param(request.query_params, "format", "csv", tuple(_MEDIA))
            spool = _spool(user_sql(), request.query_params.get("q", ""), fmt)
        except NlpkitError as e:
            return Response(f"error: {e}\n", status_code=400, media_type="text/plain")
        size = spool.seek(0, 2)
        spool.seek(0)

        def send() -> Iterator[bytes]:
            with spool:
                while chunk := spool.read(1 << 20):
                    yield chunk

        return StreamingResponse(send(), media_type=_MEDIA[fmt],
                                 headers={"Content-Disposition": f'attachment; filename="query.{fmt}"',
                                          "Content-Length": str(size)})

    def home(request: Request) -> Response:
        return RedirectResponse("/articles" + (f"?{request.url.query}" if request.url.query else ""))

    preloaded = threading.Event()
    preload_s: list[float] = []

    def health(request: Request) -> Response:
        """``ready`` once the start-up preload is over (with its seconds), else ``preloading``."""
        state = f"ready (preloaded in {preload_s[0]:.1f} s)" if preload_s else "ready" if preloaded.is_set() \
            else "preloading"
        return Response(state + "\n", media_type="text/plain")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not warm:
            preloaded.set()
        else:
            def preload() -> None:  # what the first page needs first: every list, then search, then the rest
                t0 = time.perf_counter()
                for part in ("documents", "search", "features"):
                    for name in explorer.datasets():
                        try:
                            explorer.warm_up(name, part)
                        except Exception as e:  # noqa: BLE001 - a page will show the error; start-up goes on
                            log.warning("ui: could not preload %s of %s: %s", part, name, e)
                try:
                    explorer.warm_models()
                    explorer.schema()  # one DESCRIBE per table: seconds on a busy machine, paid here
                except Exception as e:  # noqa: BLE001
                    log.warning("ui: could not preload the saved models or the schema: %s", e)
                preload_s.append(time.perf_counter() - t0)
                preloaded.set()
            threading.Thread(target=preload, name="nlpkit-ui-warm", daemon=True).start()
        yield

    routes = [
        Route("/", home),
        Route("/articles", guarded(articles, "articles.html", "Articles")),
        Route("/article", guarded(article, "article.html", "Article")),
        Route("/topics", guarded(topics, "topics.html", "Topics and clusters")),
        Route("/trends", guarded(trends, "trends.html", "Trends")),
        Route("/models", guarded(models, "models.html", "Models and runs")),
        Route("/sql", guarded(sql, "sql.html", "SQL"), methods=["GET"]),
        Route("/sql", sql_post, methods=["POST"]),
        Route("/sql/download", sql_download),
        Route("/schema", guarded(schema, "schema.html", "Schema")),
        Route("/healthz", health),
        *analyst_routes(store, page, guarded),  # related words, stories, outlets (nlpkit/ui/analyst.py)
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(RequestGuard, allowed_hosts=allowed_hosts, max_body=max_body)])
    app.state.explorer = explorer
    return app


def _spool(sandbox: IsolatedSandbox, q: str, fmt: str) -> Any:
    """The download of ``q`` written whole into a spooled temporary file (raises before anything is sent)."""
    from nlpkit.store.export import stream_table  # list/struct columns become JSON text in CSV
    from nlpkit.store.sql_limits import format_size
    from nlpkit.ui.corpus import UiError

    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
    try:
        batches = sandbox.batches(q, limit=DOWNLOAD_ROWS, max_bytes=DOWNLOAD_BYTES,
                                  cap_hint=f"downloads stop at {format_size(DOWNLOAD_BYTES)}; `nlpkit query --out "
                                  "FILE` writes any size")
        for piece in stream_table(batches, f".{fmt}"):
            spool.write(piece)
            if spool.tell() > DOWNLOAD_BYTES:
                raise UiError(f"the download is over the {format_size(DOWNLOAD_BYTES)} cap: select fewer rows or "
                              "columns, or use `nlpkit query ... --out FILE`")
    except BaseException:
        spool.close()
        raise
    return spool


def _empty(template: str) -> dict[str, Any]:
    """The context a template needs when its page failed (shown with the error line only)."""
    return _ANALYST_EMPTY.get(template) or {
        "articles.html": {"q": "", "filters": {}, "facets": [], "has_time": False, "result": None, "pg": None},
        "article.html": {"view": None},
        "topics.html": {"clusters": [], "members": None, "member_total": 0, "cluster": None, "method": "pca",
                        "projection": {"points": [], "total": 0, "note": ""}, "scatter": "", "pg": None},
        "trends.html": {"q": "", "period": "auto", "days": 7, "series": None, "chart": None, "burst_rows": [],
                        "burst_note": "", "burst_help": _BURST_HELP},
        "models.html": {"runs": [], "run_cols": [], "run_rows": [], "saved": [], "model": "", "text": "",
                        "predicted": None, "pg": None},
        "sql.html": {"q": "", "tables": [], "result": None, "sql_error": None, "cap": DOWNLOAD_ROWS},
        "schema.html": {"schema": []}}[template]
