"""Feature commands: `features build`, `similar`, `eval korsts`, `report`, `classify`."""

from __future__ import annotations

import json
import time
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from nlpkit.cli import STARTED, app
from nlpkit.cli._common import console, err_console, get_settings, get_store, handle_errors, progress_bar
from nlpkit.errors import FeatureError
from nlpkit.features.query import load_query_index

features_app = typer.Typer(help="TF-IDF, similar documents, keywords, projections, clusters.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate features against human judgements.", no_args_is_help=True)
app.add_typer(features_app, name="features")
app.add_typer(eval_app, name="eval")


_TERMS, _OUT, _RUN = "Terms (tokenizer, dictionary, stopwords)", "Outputs", "Run"


@features_app.command("build")
@handle_errors
def build(
    dataset: str = typer.Argument(..., help="A text dataset in the store (columns id, text[, label, split])."),
    tokenizer: str | None = typer.Option(None, "--tokenizer", help="Backend (kiwi, mecab, okt, english, regex ...); "
                                         "default: kiwi for Korean, english otherwise.", rich_help_panel=_TERMS),
    dicts: list[str] = typer.Option([], "--dict", metavar="PATH", rich_help_panel=_TERMS,
                                    help="User dictionary TSV (repeatable); default for Korean: "
                                    "dictionaries/ko/news.tsv. `--dict none` uses none."),
    stopwords: str | None = typer.Option(None, "--stopwords", metavar="PATH|ko|en|none", rich_help_panel=_TERMS,
                                         help="Stopword list; default: the language's "
                                         "dictionaries/<lang>/stopwords.txt."),
    k: int = typer.Option(10, "--k", help="Neighbours per document in `similar`.", rich_help_panel=_OUT),
    lda: bool | None = typer.Option(None, "--lda/--no-lda", help="Require / skip LDA (default: when labelled).",
                                    rich_help_panel=_OUT),
    report: bool = typer.Option(True, "--report/--no-report", help="Write the HTML report afterwards.",
                                rich_help_panel=_OUT),
    max_docs: int | None = typer.Option(None, "--max-docs", help="Use only the first N documents.",
                                        rich_help_panel=_RUN),
    threads: int = typer.Option(2, "--threads", help="Threads for the similarity search.", rich_help_panel=_RUN),
) -> None:
    """Build TF-IDF, similar, keywords, PCA/LDA projections and clusters for DATASET."""
    err_console.print(f"features {dataset}: starting (loading scikit-learn and the tokenizer) ...", highlight=False)
    from nlpkit.features.build import BuildOptions, build_features

    store = get_store()
    user_dicts = None if not dicts else tuple(d for d in dicts if d.lower() != "none")
    stop = "" if stopwords is None else (None if stopwords.lower() == "none" else stopwords)
    options = BuildOptions(tokenizer=tokenizer, k=k, max_docs=max_docs, n_threads=threads, lda=lda,
                           user_dicts=user_dicts, stopwords=stop)
    with progress_bar() as bar:
        tasks: dict[str, int] = {}

        def tick(step: str, n: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total, rate="")
                if not err_console.is_terminal:  # no live bar in a log: one line per stage instead
                    err_console.print(f"features {dataset}: {step} ...", highlight=False)
            bar.advance(tasks[step], n)

        result = build_features(store, dataset, options, progress=tick)
    table = Table("step", "seconds")
    for step, s in result.seconds.items():
        table.add_row(step, f"{s:.1f}")
    console.print(table)
    console.print(f"{dataset}: {result.documents:,} documents ({result.tokenized_now:,} tokenized now), "
                  f"{result.terms:,} terms, k-means k={result.chosen_k}; views: similar_docs, tfidf_keywords, "
                  f"projections, clusters (+ clusters_summary, clusters_scores)")
    for key, value in result.numbers.items():
        console.print(f"  {key}: {value}")
    if report:
        from nlpkit.features.report import write_report

        console.print(f"report: {write_report(store, dataset)}")


@app.command()
@handle_errors
def similar(
    dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset built with `nlpkit features build`."),
    doc_id: str | None = typer.Option(None, "--id", help="Neighbours of this document.", rich_help_panel="Query"),
    text: str | None = typer.Option(None, "--text", help="Neighbours of this text.", rich_help_panel="Query"),
    k: int = typer.Option(10, "--k", help="How many neighbours.", rich_help_panel="Query"),
    measure: str = typer.Option("cosine", "--measure", help="cosine (TF-IDF) | jaccard (term sets, --id only).",
                                rich_help_panel="Query"),
    label_names: str | None = typer.Option(None, "--label-names", help="Names of label ids 0,1,2... (comma-"
                                           "separated); default: the dataset's names column or build metadata.",
                                           rich_help_panel="Output"),
    tsv: bool = typer.Option(False, "--tsv", help="Tab-separated lines with a header, for scripts.",
                             rich_help_panel="Output"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line, for scripts.",
                                 rich_help_panel="Output"),
) -> None:
    """Most similar documents from the persisted index: title, outlet or label, score (milliseconds per query)."""
    from nlpkit.datasets.labels import parse_label_names
    from nlpkit.features.hits import describe_hits

    if (doc_id is None) == (text is None):
        raise FeatureError("give exactly one of --id ID or --text \"...\"")
    if measure not in ("cosine", "jaccard"):
        raise FeatureError(f"--measure {measure!r}: choose cosine or jaccard")
    if measure == "jaccard" and doc_id is None:
        raise FeatureError("--measure jaccard compares indexed documents: give --id")
    if tsv and as_json:
        raise FeatureError("--tsv and --json: choose one output format")
    names = parse_label_names(label_names) if label_names is not None else None
    store = get_store()
    if measure == "cosine":
        index: Any = load_query_index(store, dataset)
    else:
        from nlpkit.features.build import load_index

        index = load_index(store, dataset)
    if text is not None:
        index.warm_up()  # the tokenizer's model loads here, not in the query
    elif measure == "cosine":
        index.load_matrix()
    started = time.perf_counter()
    if measure == "jaccard":
        hits = index.jaccard_by_id(doc_id or "", k)
    else:
        hits = index.by_id(doc_id, k) if doc_id is not None else index.by_text(text or "", k)
    query_ms = (time.perf_counter() - started) * 1e3
    rows = describe_hits(store, dataset, hits, names)
    footer = (f"{len(rows)} neighbours; start-up {started - STARTED:.2f} s, query {query_ms:.1f} ms"
              + ("" if rows else " (no indexed term in the query)"))
    if tsv or as_json:
        for line in similar_lines(rows, "tsv" if tsv else "json"):
            typer.echo(line)
        err_console.print(footer, highlight=False)
        return
    table = Table("rank", "score", "title", "label" if not rows or not _outlets(store, dataset) else "outlet", "id")
    for r in rows:
        table.add_row(str(r.rank), f"{r.score:.3f}", escape(r.title), escape(r.group), escape(r.id))
    console.print(table)
    console.print(footer, highlight=False)


def _outlets(store: Any, dataset: str) -> bool:
    return any(c in ("outlet", "source") for c in store.columns(dataset))


def similar_lines(rows: list[Any], fmt: str) -> list[str]:
    """``rows`` as TSV (header first; tabs and newlines in titles become spaces) or JSON lines (score to 3 digits)."""
    if fmt == "json":
        return [json.dumps({"rank": r.rank, "id": r.id, "title": r.title, "group": r.group,
                            "score": round(r.score, 3)}, ensure_ascii=False) for r in rows]
    clean = lambda v: " ".join(str(v).split())  # noqa: E731
    return ["rank\tscore\ttitle\tgroup\tid"] + [
        f"{r.rank}\t{r.score:.3f}\t{clean(r.title)}\t{clean(r.group)}\t{clean(r.id)}" for r in rows]


@eval_app.command("korsts")
@handle_errors
def eval_korsts(
    tokenizer: list[str] = typer.Option(["kiwi"], "--tokenizer", help="Backend(s) to compare (repeat the option)."),
    source: str | None = typer.Option(None, "--source", help="KorSTS folder (sts-*.tsv); default: the store's "
                                      "'korsts' dataset, else sources.korsts."),
) -> None:
    """Spearman correlation of TF-IDF cosine with KorSTS gold scores, per tokenizer and setting."""
    from nlpkit.errors import DatasetError
    from nlpkit.features.korsts import evaluate, pairs_from_store, read_korsts, settings_for

    store = get_store()
    if source is None:
        try:
            pairs = pairs_from_store(store)
        except DatasetError:
            pairs = read_korsts(get_settings().source("korsts"))
    else:
        pairs = read_korsts(source)
    with console.status("scoring ...") as status:
        rows = evaluate(pairs, settings_for(tokenizer), progress=lambda msg: status.update(msg))
    table = Table("setting", "tokenizer", "view", "dev (valid)", "test")
    for r in rows:
        table.add_row(r["setting"], r["tokenizer"], r["view"], f"{r['valid']:.3f}", f"{r['test']:.3f}")
    console.print(table)
    for r in rows:
        if "weights" in r:
            console.print(f"{r['setting']}: term-group weights (tuned on train) {r['weights']}")


@app.command()
@handle_errors
def report(dataset: str = typer.Argument(..., help="Dataset built with `nlpkit features build`.")) -> None:
    """Write PCA/LDA scatter, explained variance, silhouette vs k, cluster terms as PNG + index.html."""
    from nlpkit.features.report import write_report

    console.print(f"report: {write_report(get_store(), dataset)}")


@app.command()
@handle_errors
def classify(
    dataset: str = typer.Argument(..., help="A labelled text dataset built with `nlpkit features build`."),
    model: str = typer.Option("softmax", "--model", help="softmax | svm | mlp."),
    folds: int = typer.Option(5, "--folds", help="Stratified cross-validation folds."),
    features: str = typer.Option("auto", "--features", help="tfidf | pca | auto (mlp: pca, others: tfidf)."),
) -> None:
    """Cross-validated softmax / linear SVM / MLP over TF-IDF or PCA features; rows in model_runs."""
    from nlpkit.features.classify import MODELS, ClassifyOptions
    from nlpkit.features.runs import classify_dataset

    if model not in MODELS:
        raise FeatureError(f"--model {model!r}: choose one of {', '.join(MODELS)}")
    if features not in ("auto", "tfidf", "pca"):
        raise FeatureError(f"--features {features!r}: choose tfidf, pca or auto")
    store = get_store()
    with progress_bar() as bar:
        task = bar.add_task(f"{model} {folds}-fold", total=folds, rate="")
        res, pngs = classify_dataset(store, dataset, ClassifyOptions(model=model, folds=folds),  # type: ignore[arg-type]
                                     features=features, progress=lambda n: bar.advance(task, n))
    console.print(f"{dataset} {model} ({res.feature_kind}): accuracy {res.accuracy:.4f} ± {res.accuracy_std:.4f}, "
                  f"macro F1 {res.f1:.4f} ± {res.f1_std:.4f} ({len(res.fold_scores)} folds, {res.seconds:.1f} s)")
    for c, feats in res.top_features.items():
        console.print(f"  {c}: {', '.join(t for t, _ in feats[:8])}")
    console.print(f"row in model_runs; plots: {', '.join(str(p) for p in pngs)}")
