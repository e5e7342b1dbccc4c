"""Analysts' commands over the store: `query`, `datasets`, `history`, `vacuum`, `import`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from nlpkit.cli import app
from nlpkit.cli._common import console, get_settings, get_store, handle_errors
from nlpkit.datasets.importer import ImportOptions, import_corpus
from nlpkit.datasets.labels import parse_label_names
from nlpkit.errors import StorageError
from nlpkit.store.sql_limits import DEFAULT_TIMEOUT, parse_as_of


def _cell(value: Any, width: int = 80) -> str:
    """A printed cell: floats to 4 significant digits for people (``--out`` keeps full precision)."""
    if isinstance(value, float) and math.isfinite(value):
        text = f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    else:
        text = "" if value is None else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command()
@handle_errors
def query(
    sql: str = typer.Argument(..., help="One read-only statement (e.g. \"SELECT label, count(*) FROM imdb GROUP BY 1\")."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the whole result to .csv, .tsv, .parquet, .json "
                                    "or .jsonl instead of printing."),
    limit: int = typer.Option(50, "--limit", "--max-rows", min=0, help="Rows to print (fetching stops there)."),
    width: int = typer.Option(80, "--width", help="Characters shown per cell."),
    timeout: float = typer.Option(DEFAULT_TIMEOUT, "--timeout", help="Seconds before the query is interrupted."),
    memory_limit: str | None = typer.Option(None, "--memory-limit", help="DuckDB memory limit, e.g. 4GB "
                                            "(default: a quarter of the RAM)."),
    as_of: list[str] = typer.Option([], "--as-of", help="NAME=VERSION: plain NAME reads that version (repeatable)."),
    spill_limit: str | None = typer.Option(None, "--spill-limit", help="Disk a query may spill to in its own "
                                           "temporary folder, e.g. 2GB; 0 turns spilling off (default: 4x the "
                                           "memory limit, at most 10GB)."),
    max_bytes: str | None = typer.Option(None, "--max-bytes", help="Stop --out when the result passes this size "
                                         "(Arrow bytes), e.g. 20GB (default: no cap; printing is capped by "
                                         "--memory-limit)."),
) -> None:
    """Run read-only SQL over the store in a sandbox (no file access; only SELECT/DESCRIBE/SUMMARIZE/EXPLAIN).

    Tables: each dataset by name (latest version), NAME__vN for older versions, NAME_TABLE for its
    other tables (imdb_rejects), and every append table (articles, fetch_log, runs, model_runs ...).
    The query runs in a child process that is stopped at --timeout and may use about twice
    --memory-limit; results stream back batch by batch.
    """
    from nlpkit.store.sql_worker import IsolatedSandbox

    sandbox = IsolatedSandbox(get_store(), timeout=timeout, memory_limit=memory_limit, spill_limit=spill_limit,
                              as_of=parse_as_of(as_of), max_bytes=max_bytes)
    if out is not None:
        n = sandbox.export(sql, out)
        console.print(f"wrote {n:,} rows to {out}")
        return
    res = sandbox.fetch(sql, limit=limit)
    table = Table(*res.columns, show_lines=False)
    for row in res.rows:
        table.add_row(*(_cell(v, width) for v in row))
    console.print(table)
    more = f" (first {limit}; more not fetched: use --limit N or --out FILE)" if res.truncated else ""
    console.print(f"{len(res.rows):,} rows{more}")


@app.command()
@handle_errors
def datasets(
    all_versions: bool = typer.Option(False, "--all", help="List every kept version, not only the latest."),
) -> None:
    """List datasets with versions, row counts, rejects and build times, and the append tables."""
    store = get_store()
    table = Table("dataset", "version", "latest", "rows", "rejected", "tables", "created", "build s", "source")
    for name in store.datasets():
        versions = store.versions(name)
        latest = versions[-1].version
        for info in versions if all_versions else versions[-1:]:
            m = info.manifest
            table.add_row(
                name, info.version, "*" if info.version == latest else "", f"{info.rows:,}",
                f"{m.get('counts', {}).get('rejected', 0):,}", ",".join(info.tables),
                info.created_at, str(m.get("build_seconds", "")), _cell(m.get("source"), 40),
            )
    for name in store.tables():
        rows = store.read_appended(name, columns=[]).num_rows
        table.add_row(name, "(append)", "", f"{rows:,}", "", "", "", "", "")
    console.print(table)
    console.print(f"store: {store.root}")


@app.command()
@handle_errors
def history(
    dataset: str = typer.Argument(..., help="Dataset name (see `nlpkit data list`)."),
) -> None:
    """Every commit of DATASET, newest first: version, time, operation, rows, parameters."""
    from nlpkit.store.maintenance import history as store_history

    table = Table("version", "time", "operation", "rows", "readable", "parameters", "source")
    for row in store_history(get_store(), dataset):
        params = "" if row["parameters"] is None else json.dumps(row["parameters"], ensure_ascii=False, default=str)
        readable = "" if row["readable"] is None else ("yes" if row["readable"] else "vacuumed")
        rows = "" if row["rows"] is None else f"{row['rows']:,}"
        table.add_row(row["version"], row["time"], row["operation"], rows, readable, _cell(params, 60),
                      _cell(row["source"], 40))
    console.print(table)


@app.command()
@handle_errors
def vacuum(
    keep: int | None = typer.Option(None, "--keep", min=1, help="Versions of each dataset to keep "
                                    "(default: store.retention in flows.yaml)."),
    no_compact: bool = typer.Option(False, "--no-compact", help="Do not compact the append tables."),
) -> None:
    """Delete dataset versions older than the last K, leftovers of killed writers, and compact append tables."""
    from nlpkit.store.maintenance import vacuum as store_vacuum

    settings = get_settings().store
    report = store_vacuum(get_store(), keep=keep or settings.retention,
                          append_retention_hours=settings.append_retention_hours, compact=not no_compact)
    for name, dropped in report.dropped_versions.items():
        console.print(f"{name}: dropped {', '.join(dropped)}")
    for name in report.removed_datasets:
        console.print(f"{name}: removed (its first build never committed)")
    for name, why in report.skipped.items():
        console.print(f"{name}: skipped ({why})")
    console.print(f"deleted {report.files_deleted:,} data files and {report.artifacts_deleted:,} artifact folders; "
                  f"compacted: {', '.join(report.compacted) or '-'}")


store_app = typer.Typer(help="Store maintenance: migrate an old-layout data dir.", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("migrate")
@handle_errors
def migrate() -> None:
    """Convert a data dir in the old Parquet layout (LATEST, part-*.parquet) to Delta tables, once."""
    from nlpkit.store.migrate import migrate as run_migration

    store = get_store()
    if store.remote:
        raise StorageError(f"{store.root} is on object storage, where the old Parquet layout never was: "
                           "`nlpkit data migrate` converts a local data dir only")
    with console.status(f"migrating {store.root} ..."):
        report = run_migration(store.root)
    for name, versions in report.datasets.items():
        console.print(f"{name}: {', '.join(versions)}")
    for name, rows in report.tables.items():
        console.print(f"{name}: {rows:,} rows (append table)")
    console.print(f"old files kept in {report.backup}; delete that folder once the new store looks right")


@app.command("import")
@handle_errors
def import_(
    name: str = typer.Argument(..., help="Dataset name (lower-case, digits, '_'); becomes the SQL view name."),
    file: Path = typer.Argument(..., help="JSONL, CSV, TSV or Parquet file; .gz and .zip accepted."),
    text_col: str = typer.Option("text", "--text-col", help="Column holding the text."),
    label_col: str | None = typer.Option(None, "--label-col", help="Column holding the label."),
    label_names: str | None = typer.Option(None, "--label-names", help="Names of label ids 0,1,2... (comma-separated, "
                                           "in id order), stored with the dataset for every page and command."),
    title_col: str | None = typer.Option(None, "--title-col", help="Column holding a title."),
    id_col: str | None = typer.Option(None, "--id-col", help="Column holding a unique id (default: row number)."),
    fmt: str = typer.Option("auto", "--format", help="auto|jsonl|csv|tsv|parquet."),
    no_quoting: bool = typer.Option(False, "--no-quoting", help="Read CSV/TSV with quoting disabled (KorSTS, NSMC)."),
    member: str | None = typer.Option(None, "--member", help="File inside a .zip archive."),
    max_decompressed_mb: int | None = typer.Option(
        None, "--max-decompressed-mb", min=1,
        help="Refuse a compressed file that expands past this many MiB (default: settings max_decompressed_mb, 4096)."),
    max_ratio: float = typer.Option(200.0, "--max-ratio", min=1,
                                    help="Refuse a compressed file that expands more than this many times its size."),
) -> None:
    """Register a local corpus as a new version of dataset NAME."""
    if fmt not in ("auto", "jsonl", "csv", "tsv", "parquet"):
        raise typer.BadParameter(f"--format {fmt!r}: expected one of auto, jsonl, csv, tsv, parquet")
    options = ImportOptions(
        text_col=text_col, label_col=label_col, title_col=title_col, id_col=id_col,
        format=fmt, quoting=not no_quoting, member=member,  # type: ignore[arg-type]
        max_decompressed_bytes=(max_decompressed_mb or get_settings().max_decompressed_mb) << 20,
        max_compression_ratio=max_ratio,
        label_names=parse_label_names(label_names) if label_names is not None else {},
    )
    with console.status(f"importing {file} ..."):
        info = import_corpus(get_store(), name, file, options)
    counts = info.manifest["counts"]
    console.print(
        f"{name} {info.version}: {counts['kept']:,} rows kept, {counts['rejected']:,} rejected "
        f"(see view {name}_rejects)"
    )
