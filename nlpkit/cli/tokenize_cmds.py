"""Tokenization commands: `tokenize` (text, stdin or a file) and `tokenize-dataset` (a store dataset).

A text the engine fails on never shifts the others: `tokenize` prints an empty line for it
(``{"error": ...}`` with --json, an ``error`` value with --out), one ``warning:`` line on
stderr naming the line, a count at the end, and exits 1; `tokenize-dataset` records it as a
reject (``engine_error``/``over_budget``), prints one warning line per reject and the count,
and exits 0 (the version is written; the rejects are retried by the next run).
"""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from nlpkit.cli import app
from nlpkit.cli._common import console, get_settings, get_store, handle_errors, parse_key_values, progress_bar
from nlpkit.errors import ConfigError

_TOKENIZER_HELP = ("Backend: kiwi, mecab, okt, komoran, hannanum, kkma (slow, opt-in), english, or the rule-based "
                   "words, chars, whitespace, regex.")


#: Backends whose engine calls nlpkit's Java helper can stop (``tokenize.time_limit_s``).
_JVM_TAGGERS = ("okt", "komoran", "kkma", "hannanum")


def _make_tokenizer(name: str, dicts: list[Path], options: dict[str, Any]) -> Any:
    from nlpkit.tokenize import get_tokenizer
    from nlpkit.tokenize.jvm import configure_jvm

    settings = get_settings()
    configure_jvm(settings.java_heap_mb)
    if name == "english" and settings.nltk_data is not None:
        options.setdefault("nltk_data", str(settings.nltk_data))
    if name in _JVM_TAGGERS:
        options.setdefault("time_limit_s", settings.tokenize.time_limit_s)
    if settings.tokenize.max_run_chars is not None:
        options.setdefault("max_run_chars", settings.tokenize.max_run_chars)
    # failures are reported here, one line each with the line number / document id
    logging.getLogger("nlpkit.tokenize.core").setLevel(logging.ERROR)
    for d in dicts:
        if not d.is_file():
            raise ConfigError(f"--dict {str(d)!r}: no such file; dictionaries are TSV files like dictionaries/ko/news.tsv")
    try:
        return get_tokenizer(name, user_dicts=[str(d) for d in dicts], **options)
    except ValueError as e:
        raise ConfigError(str(e)) from e


def _bounded(tok: Any, texts: Any) -> Iterator[Any]:
    """Token lists of ``texts`` under the per-document budget (``tokenize.doc_budget_s``)."""
    from nlpkit.tokenize.dataset import tokenize_bounded

    return tokenize_bounded(tok, texts, get_settings().tokenize.doc_budget_s, group=tok.batch_size
                            if hasattr(tok, "batch_size") else 256)


def _warn(where: str, error: object) -> None:
    typer.echo(f"warning: {where}: {' '.join(str(error).split())}", err=True)


def _lines(path: Path) -> Iterator[str]:
    """Lines of a UTF-8 file; a line ends at "\\n" only (a lone "\\r" stays inside its line)."""
    with path.open(encoding="utf-8", errors="replace", newline="\n") as f:
        for line in f:
            yield line.rstrip("\r\n")


def _stdin_lines() -> Iterator[str]:
    """Lines of stdin, read exactly as :func:`_lines` reads a file (same line numbers for the same bytes)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # a text-only stdin (tests, embedding)
        yield from (line.rstrip("\r\n") for line in sys.stdin)
        return
    for line in io.TextIOWrapper(buffer, encoding="utf-8", errors="replace", newline="\n"):
        yield line.rstrip("\r\n")


@app.command()
@handle_errors
def tokenize(
    texts: list[str] = typer.Argument(None, help="Texts to tokenize (default: --input, else stdin lines)."),
    tokenizer: str = typer.Option("kiwi", "--tokenizer", "-t", help=_TOKENIZER_HELP),
    dicts: list[Path] = typer.Option([], "--dict", "-d", help="User dictionary TSV (repeatable)."),
    option: list[str] = typer.Option([], "--option", "-o", help="Backend option KEY=VALUE, e.g. norm=true."),
    as_json: bool = typer.Option(False, "--json", help='One JSON object per input line: {"tokens": [...]}.'),
    input_file: Path | None = typer.Option(None, "--input", "-i", help="UTF-8 text file, one document per line."),
    out: Path | None = typer.Option(None, "--out", help="Write tokens to this Parquet file instead of printing."),
) -> None:
    """Tokenize texts with any backend: print form/TAG pairs, JSON lines, or write Parquet."""
    tok = _make_tokenizer(tokenizer, dicts, parse_key_values(option, "--option", "norm=true"))
    if texts and input_file is not None:
        raise ConfigError("give texts as arguments or --input FILE, not both")
    if input_file is not None and not input_file.is_file():
        raise ConfigError(f"--input {str(input_file)!r}: no such file")
    if out is not None:
        if input_file is None:
            raise ConfigError("--out needs --input FILE (one document per line)")
        _write_parquet(tok, input_file, out)
        return
    source: Any = texts if texts else (_lines(input_file) if input_file is not None else _stdin_lines())
    failed = total = 0
    for total, toks in enumerate(_bounded(tok, source), start=1):
        error = getattr(toks, "error", None)
        if error is not None:
            failed += 1
            _warn(f"line {total}" if not texts else f"text {total}", error)
        if as_json:
            record: dict[str, Any] = {"error": str(error)} if error is not None else {
                "tokens": [{"form": t.form, "tag": t.tag, "start": t.start, "end": t.end} for t in toks]}
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(" ".join(f"{t.form}/{t.tag}" for t in toks) + "\n")
    sys.stdout.flush()
    if failed:
        typer.echo(f"warning: {tok.name} failed on {failed} of {total} texts (empty output lines)", err=True)
        raise typer.Exit(1)


def _write_parquet(tok: Any, input_file: Path, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nlpkit.tokenize.dataset import TOKEN_TYPE, tokens_to_arrow

    total = sum(1 for _ in _lines(input_file))
    schema = pa.schema([("line", pa.int64()), ("text", pa.string()), ("tokens", pa.list_(TOKEN_TYPE)),
                        ("error", pa.string())])
    schema = schema.with_metadata({"nlpkit.tokenizer": json.dumps(tok.config, ensure_ascii=False),
                                   "nlpkit.fingerprint": tok.fingerprint})
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    started = time.perf_counter()
    done = failed = 0
    with progress_bar() as bar, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        task = bar.add_task(f"tokenize ({tok.name})", total=total, rate="")
        rows: list[dict[str, Any]] = []
        for line_no, (text, toks) in enumerate(zip(_lines(input_file), _bounded(tok, _lines(input_file)))):
            error = getattr(toks, "error", None)
            if error is not None:
                failed += 1
                _warn(f"line {line_no + 1}", error)
            rows.append({"line": line_no + 1, "text": text, "tokens": tokens_to_arrow(toks),
                         "error": None if error is None else str(error)})
            if len(rows) >= 1000:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                done += len(rows)
                rows = []
                rate = done / max(time.perf_counter() - started, 1e-9)
                bar.update(task, completed=done, rate=f"{rate:,.0f} lines/s")
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            done += len(rows)
        bar.update(task, completed=done)
    tmp.replace(out)
    console.print(f"{done:,} lines -> {out} ({tok.name}, {time.perf_counter() - started:.1f} s)")
    if failed:
        typer.echo(f"warning: {tok.name} failed on {failed} of {done} lines (column 'error')", err=True)
        raise typer.Exit(1)


@app.command("tokenize-dataset")
@handle_errors
def tokenize_dataset_cmd(
    dataset: str = typer.Argument(..., help="A text dataset of the store (e.g. korean_news, nsmc, imdb)."),
    tokenizer: str = typer.Option("kiwi", "--tokenizer", "-t", help=_TOKENIZER_HELP),
    dicts: list[Path] = typer.Option([], "--dict", "-d", help="User dictionary TSV (repeatable)."),
    option: list[str] = typer.Option([], "--option", "-o", help="Backend option KEY=VALUE."),
    text_column: list[str] = typer.Option(["text"], "--text-column", help="Text column(s), joined by newlines."),
    id_column: str = typer.Option("id", "--id-column"),
    batch_size: int = typer.Option(512, "--batch-size", min=1),
) -> None:
    """Tokenize the documents of DATASET not yet tokenized with this backend+options+dictionary."""
    from nlpkit.tokenize.dataset import plan_tokenize, tokenize_texts, write_tokens

    options = parse_key_values(option, "--option", "norm=true")
    budget = get_settings().tokenize.doc_budget_s
    if get_settings().tokenize.max_run_chars is not None:
        options.setdefault("max_run_chars", get_settings().tokenize.max_run_chars)
    if tokenizer in _JVM_TAGGERS:
        options.setdefault("time_limit_s", get_settings().tokenize.time_limit_s)
    _make_tokenizer(tokenizer, dicts, dict(options))
    plan = plan_tokenize(get_store(), dataset, tokenizer, user_dicts=[str(d) for d in dicts], options=options,
                         text_column=text_column if len(text_column) > 1 else text_column[0], id_column=id_column)
    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task(f"{dataset} ({tokenizer})", total=len(plan.todo_ids), rate="")
        done = 0

        def batches() -> Iterator[Any]:
            nonlocal done
            for ids, texts, shas in plan.batches(batch_size):
                batch = tokenize_texts(plan.tokenizer, ids, texts, shas, plan.fingerprint, doc_budget_s=budget)
                for reject in batch.rejects:
                    _warn(f"document {reject['item']!r} rejected ({reject['reason']})", reject["detail"])
                done += len(ids)
                rate = done / max(time.perf_counter() - started, 1e-9)
                bar.update(task, completed=done, rate=f"{rate:,.0f} docs/s")
                yield batch

        result = write_tokens(get_store(), plan, batches())
    what = "written" if result.written else "up to date"
    console.print(f"{result.out_name} {result.version} {what}: {result.tokenized:,} tokenized, {result.reused:,} "
                  f"reused, {result.dropped:,} dropped, {result.rejected:,} rejected "
                  f"(fingerprint {result.fingerprint[:12]}, {time.perf_counter() - started:.1f} s)")
