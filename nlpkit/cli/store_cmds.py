"""Analysts' commands over the store: `query`, `datasets`, `import`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from nlpkit.cli import app
from nlpkit.cli._common import console, get_settings, get_store, handle_errors
from nlpkit.datasets.importer import ImportOptions, import_corpus
from nlpkit.store import Catalog


def _cell(value: Any, width: int = 80) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command()
@handle_errors
def query(
    sql: str = typer.Argument(..., help="A SELECT over the catalog's views (e.g. \"SELECT label, count(*) FROM imdb GROUP BY 1\")."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the result to .csv, .tsv or .parquet instead of printing."),
    max_rows: int = typer.Option(50, "--max-rows", help="Rows to print (the query itself is not limited)."),
    width: int = typer.Option(80, "--width", help="Characters shown per cell."),
) -> None:
    """Run read-only SQL over the store (DuckDB); DROP/INSERT/COPY/ATTACH/SET are refused."""
    catalog = Catalog(get_store())
    if out is not None:
        n = catalog.export(sql, out)
        console.print(f"wrote {n:,} rows to {out}")
        return
    columns, rows = catalog.query(sql)
    table = Table(*columns, show_lines=False)
    for row in rows[:max_rows]:
        table.add_row(*(_cell(v, width) for v in row))
    console.print(table)
    more = f" (showing {max_rows})" if len(rows) > max_rows else ""
    console.print(f"{len(rows):,} rows{more}")


@app.command()
@handle_errors
def datasets(
    all_versions: bool = typer.Option(False, "--all", help="List every version, not only the latest."),
) -> None:
    """List datasets with versions, row counts, rejects and build times."""
    store = get_store()
    table = Table("dataset", "version", "latest", "rows", "rejected", "tables", "created", "build s", "source")
    for name in store.datasets():
        latest = store.latest(name).version
        versions = store.versions(name)
        for info in versions if all_versions else [store.latest(name)]:
            m = info.manifest
            table.add_row(
                name, info.version, "*" if info.version == latest else "", f"{info.rows:,}",
                f"{m.get('counts', {}).get('rejected', 0):,}", ",".join(info.tables),
                info.created_at, str(m.get("build_seconds", "")), _cell(m.get("source"), 40),
            )
    for name in store.tables():
        rows = store.read_appended(name).num_rows
        table.add_row(name, "(append)", "", f"{rows:,}", "", "parts", "", "", "")
    console.print(table)
    console.print(f"store: {store.root}")


@app.command("import")
@handle_errors
def import_(
    name: str = typer.Argument(..., help="Dataset name (lower-case, digits, '_'); becomes the SQL view name."),
    file: Path = typer.Argument(..., help="JSONL, CSV, TSV or Parquet file; .gz and .zip accepted."),
    text_col: str = typer.Option("text", "--text-col", help="Column holding the text."),
    label_col: str | None = typer.Option(None, "--label-col", help="Column holding the label."),
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
    )
    with console.status(f"importing {file} ..."):
        info = import_corpus(get_store(), name, file, options)
    counts = info.manifest["counts"]
    console.print(
        f"{name} {info.version}: {counts['kept']:,} rows kept, {counts['rejected']:,} rejected "
        f"(see view {name}_rejects)"
    )
