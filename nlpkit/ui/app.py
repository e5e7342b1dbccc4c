"""The web app: Starlette routes rendering server-side HTML (Jinja2) from :class:`Explorer` answers.

Why Starlette and not Streamlit or Dash (measured on this machine, a one-table page each): ready
in 0.26 s / 30 MiB against 0.90 s / 75 MiB (Streamlit) and 0.57 s / 52 MiB (Dash), and the
first HTML already holds the page's content, so a headless browser (or a plain HTTP client)
tests it without waiting for a client-side render; every interaction is a plain GET/POST.

Pages: ``/articles`` (search + filters), ``/article`` (body, keywords, neighbours, cluster),
``/topics`` (clusters, members, projection scatter), ``/trends`` (term counts, bursts),
``/models`` (model_runs with confusion matrices, run history), ``/sql`` (sandboxed query box,
CSV/Parquet download), ``/healthz`` (``preloading`` until the start-up preload is over, then ``ready``).
Every expected failure is shown on the page as one line (HTTP 400).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from nlpkit.errors import NlpkitError
from nlpkit.store import Store
from nlpkit.ui.charts import heat, lines_svg
from nlpkit.ui.analyst import ANALYST_PAGES, EMPTY as _ANALYST_EMPTY, analyst_routes
from nlpkit.ui.explorer import Explorer

__all__ = ["create_app", "DOWNLOAD_ROWS", "PAGES"]

log = logging.getLogger(__name__)
PAGES = [("/articles", "Articles"), ("/topics", "Topics and clusters"), ("/trends", "Trends"),
         ("/models", "Models and runs"), ("/sql", "SQL"), *ANALYST_PAGES]
_FILTERS = ("outlet", "section", "language", "label", "split", "topic", "since", "until")
_BURST_HELP = ("Burst = log2 of (share of last-window documents mentioning the term) over (its share in the "
               "previous window), each count +0.5; +1 means the share doubled. Terms in fewer than 2 documents of "
               "the last window are left out.")
_SQL_ROWS = 500
DOWNLOAD_ROWS = 200_000  # a download stops here (said on the SQL page); `nlpkit query --out` has no cap


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4g}"
    s = str(v)
    return s if len(s) <= 300 else s[:300] + " …"


def create_app(store: Store, *, warm: bool = True) -> Starlette:
    """The app over ``store``; with ``warm`` a background thread preloads every dataset at start-up."""
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
        result = explorer.search(dataset, p.get("q", ""), filters)
        return page(request, "articles.html", "Articles", dataset=dataset, q=p.get("q", ""), filters=filters,
                    facets=facets, has_time=c.has("time"), result=result)

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
        members, total, cluster = None, 0, p.get("cluster")
        if cluster not in (None, ""):
            try:
                members, total = explorer.cluster_members(dataset, int(cluster))
            except ValueError:
                members = []
        return page(request, "topics.html", "Topics and clusters", dataset=dataset, clusters=explorer.clusters(dataset),
                    members=members, member_total=total, cluster=cluster, method=method, projection=proj,
                    scatter=explorer.scatter(dataset, method))

    def trends(request: Request) -> HTMLResponse:
        p = request.query_params
        dataset = _dataset(request, explorer.datasets())
        q, period = p.get("q", ""), p.get("period", "day")
        try:
            days = int(p.get("days", "7"))
        except ValueError:
            days = 7
        series = chart = None
        if q.strip():
            series = explorer.trend(dataset, q, period)
            chart = lines_svg(series.periods, series.counts)
        try:
            burst_rows, burst_note = explorer.bursts(dataset, days=days)
            error = None
        except NlpkitError as e:
            burst_rows, burst_note, error = [], "", str(e)
        return page(request, "trends.html", "Trends", dataset=dataset, q=q, period=period, days=days, series=series,
                    chart=chart, burst_rows=burst_rows, burst_note=burst_note, burst_help=_BURST_HELP, error=error)

    def models(request: Request) -> HTMLResponse:
        p = request.query_params
        cols, rows = explorer.runs()
        saved = explorer.saved_models()
        key, text = p.get("model") or (saved[0].key if saved else ""), p.get("text", "")
        predicted, error = None, None
        if "text" in p:
            try:
                predicted = explorer.predict(key, text)
            except NlpkitError as e:  # the rest of the page still shows
                error = str(e)
        return page(request, "models.html", "Models and runs", status=400 if error else 200, runs=explorer.model_runs(),
                    run_cols=cols, run_rows=rows, saved=saved, model=key, text=text, predicted=predicted,
                    error=error)

    def sql(request: Request) -> HTMLResponse:
        return page(request, "sql.html", "SQL", q=request.query_params.get("q", "SELECT * FROM model_runs LIMIT 20"),
                    tables=_tables(), result=None, sql_error=None, cap=DOWNLOAD_ROWS)

    def _tables() -> list[str]:
        return explorer.tables()

    async def sql_post(request: Request) -> Response:
        from urllib.parse import parse_qs

        body = (await request.body()).decode("utf-8", errors="replace")  # a plain urlencoded form
        q = parse_qs(body).get("q", [""])[0]
        from starlette.concurrency import run_in_threadpool

        def run() -> HTMLResponse:
            try:
                result, error = explorer.sandbox().fetch(q, limit=_SQL_ROWS), None
            except NlpkitError as e:
                result, error = None, str(e)
            return page(request, "sql.html", "SQL", status=400 if error else 200, q=q, tables=_tables(),
                        result=result, sql_error=error, cap=DOWNLOAD_ROWS)
        return await run_in_threadpool(run)

    def sql_download(request: Request) -> Response:
        """The query's result as CSV or Parquet, streamed batch by batch, at most ``DOWNLOAD_ROWS`` rows."""
        q, fmt = request.query_params.get("q", ""), request.query_params.get("format", "csv")
        if fmt not in ("csv", "parquet"):
            return Response(f"error: format {fmt!r}: use csv or parquet\n", status_code=400, media_type="text/plain")
        try:
            batches = explorer.sandbox().batches(q, limit=DOWNLOAD_ROWS)
        except NlpkitError as e:
            return Response(f"error: {e}\n", status_code=400, media_type="text/plain")
        from nlpkit.store.export import stream_table  # list/struct columns become JSON text in CSV

        return StreamingResponse(stream_table(batches, f".{fmt}"),
                                 media_type="text/csv" if fmt == "csv" else "application/vnd.apache.parquet",
                                 headers={"Content-Disposition": f'attachment; filename="query.{fmt}"'})

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
                except Exception as e:  # noqa: BLE001
                    log.warning("ui: could not preload the saved models: %s", e)
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
        Route("/healthz", health),
        *analyst_routes(store, page, guarded),  # related words, stories, outlets (nlpkit/ui/analyst.py)
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.explorer = explorer
    return app


def _empty(template: str) -> dict[str, Any]:
    """The context a template needs when its page failed (shown with the error line only)."""
    return _ANALYST_EMPTY.get(template) or {"articles.html": {"q": "", "filters": {}, "facets": [], "has_time": False, "result": None},
            "article.html": {"view": None},
            "topics.html": {"clusters": [], "members": None, "member_total": 0, "cluster": None, "method": "pca",
                            "projection": {"points": [], "total": 0, "note": ""}, "scatter": ""},
            "trends.html": {"q": "", "period": "day", "days": 7, "series": None, "chart": None, "burst_rows": [],
                            "burst_note": "", "burst_help": _BURST_HELP},
            "models.html": {"runs": [], "run_cols": [], "run_rows": [], "saved": [], "model": "", "text": "",
                            "predicted": None},
            "sql.html": {"q": "", "tables": [], "result": None, "sql_error": None, "cap": DOWNLOAD_ROWS}}[template]
