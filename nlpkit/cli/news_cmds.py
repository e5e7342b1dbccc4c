"""News commands: `scrape` (fetch and store articles), `articles` (list them), `reextract`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from nlpkit.cli import app
from nlpkit.cli._common import console, err_console, get_settings, get_store, handle_errors, progress_bar
from nlpkit.errors import ConfigError, Interrupted


@app.command()
@handle_errors
def scrape(
    source: list[str] = typer.Option([], "--source", "-s", help="Source name from flows.yaml news.sources (repeatable; default all enabled)."),
    url_file: Path | None = typer.Option(None, "--url-file", help="Also fetch the URLs in this file (one per line)."),
    directory: Path | None = typer.Option(None, "--dir", help="Also extract the saved .html files under this folder."),
    outlet: str = typer.Option("(ad hoc)", "--outlet", help="Outlet stored for --url-file/--dir articles."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Fetch at most N article pages this run."),
    no_delay: bool = typer.Option(False, "--no-delay", help="Drop the per-host delay (only for your own servers)."),
) -> None:
    """Discover, fetch, extract and store news articles; unfinished URLs of a killed run come first."""
    from nlpkit.news.ingest import ingest
    from nlpkit.news.sources import SourceSpec

    news = get_settings().news
    specs = news.select(source) if source or not (url_file or directory) else []
    if url_file is not None:
        specs.append(SourceSpec(name="url_file", kind="urls", path=url_file, outlet=outlet, max_articles=10**9))
    if directory is not None:
        specs.append(SourceSpec(name="directory", kind="directory", path=directory, outlet=outlet, max_articles=10**9))
    if not specs:
        raise ConfigError("nothing to scrape: declare news.sources in flows.yaml, or give --url-file / --dir")
    if no_delay:
        news = news.model_copy(update={"fetch": news.fetch.model_copy(update={"per_host_delay": 0.0})})
    with progress_bar() as bar:
        task = bar.add_task("pages", total=None, rate="")

        def on_page(counts, total):  # type: ignore[no-untyped-def]
            bar.update(task, total=total or None, completed=counts["extracted"] + counts["failed"] + counts["duplicates"],
                       rate=f"fetched {counts['fetched']}, extracted {counts['extracted']}, failed {counts['failed']}")

        try:
            report = ingest(get_store(), news, specs, limit=limit, progress=on_page)
        except Interrupted as e:  # what was fetched is saved; exit like a killed process would (143 for SIGTERM)
            err_console.print(f"[bold red]error:[/] {e}", highlight=False)
            raise typer.Exit(128 + e.signum) from None
    table = Table("outcome", "rows")
    for kind, n in report.kinds.most_common():
        table.add_row(kind, str(n))
    console.print(table)
    for name, why in report.sources_failed.items():
        console.print(f"[yellow]source {name} failed:[/] {why}", highlight=False)
    console.print(f"{report.stored} stored, {report.duplicates} duplicates, {report.failed} failed of {report.queued} "
                  f"queued in {report.seconds:.1f}s ({report.pages_per_second:.1f} pages/s); details: view fetch_log")


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as e:
        raise ConfigError(f"--since {value!r}: expected an ISO date or time like 2024-05-01 or 2024-05-01T09:00+09:00") from e
    return dt if dt.tzinfo else dt.replace(tzinfo=ZoneInfo("Asia/Seoul"))


@app.command()
@handle_errors
def articles(
    since: str | None = typer.Option(None, "--since", help="Only articles published (or fetched) at/after this time; naive = KST."),
    source: list[str] = typer.Option([], "--source", "-s", help="Only these sources (repeatable)."),
    limit: int = typer.Option(50, "--limit", min=1, help="Rows to print (newest first)."),
) -> None:
    """List stored articles, newest first."""
    from nlpkit.news.newsstore import NewsStore

    cutoff = _since(since)
    columns = ["published_at", "fetched_at", "source", "language", "title", "canonical_url", "duplicate_of"]
    rows = NewsStore(get_store()).articles(columns).to_pylist()
    rows = [r for r in rows if not source or r["source"] in source]
    for r in rows:
        r["when"] = r["published_at"] or r["fetched_at"]
    if cutoff is not None:
        rows = [r for r in rows if r["when"] and r["when"] >= cutoff]
    rows.sort(key=lambda r: r["when"], reverse=True)
    table = Table("published (KST)", "source", "lang", "title", "canonical URL", "dup")
    kst = ZoneInfo("Asia/Seoul")
    for r in rows[:limit]:
        when = r["published_at"].astimezone(kst).strftime("%Y-%m-%d %H:%M") if r["published_at"] else "?"
        table.add_row(when, r["source"], r["language"], (r["title"] or "")[:60], r["canonical_url"][:70],
                      "yes" if r["duplicate_of"] else "")
    console.print(table)
    console.print(f"{len(rows):,} articles" + (f" (showing {limit})" if len(rows) > limit else ""))


@app.command()
@handle_errors
def reextract(
    source: list[str] = typer.Option([], "--source", "-s", help="Only these sources (default all)."),
) -> None:
    """Extract stored articles again from their archived raw HTML (no fetching)."""
    from nlpkit.news.reextract import reextract as run_reextract

    with progress_bar() as bar:
        task = bar.add_task("re-extracting", total=None, rate="")
        report = run_reextract(get_store(), get_settings().news, sources=source or None,
                               progress=lambda i, n: bar.update(task, completed=i, total=n))
    console.print(f"{report.articles} articles, {report.changed} changed, {report.kept_old} kept their old text; "
                  f"extractors: {dict(report.extractors)}")
