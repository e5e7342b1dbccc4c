"""Feature commands: `features build`, `similar`, `eval korsts`, `report`, `classify`."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from nlpkit.cli import app
from nlpkit.cli._common import console, get_settings, get_store, handle_errors, progress_bar
from nlpkit.errors import FeatureError

features_app = typer.Typer(help="TF-IDF, similar documents, keywords, projections, clusters.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate features against human judgements.", no_args_is_help=True)
app.add_typer(features_app, name="features")
app.add_typer(eval_app, name="eval")


@features_app.command("build")
@handle_errors
def build(
    dataset: str = typer.Argument(..., help="A text dataset in the store (columns id, text[, label, split])."),
    tokenizer: str | None = typer.Option(None, "--tokenizer", help="Backend (kiwi, mecab, okt, english, regex ...); "
                                         "default: kiwi for Korean, english otherwise."),
    k: int = typer.Option(10, "--k", help="Neighbours per document in `similar`."),
    max_docs: int | None = typer.Option(None, "--max-docs", help="Use only the first N documents."),
    threads: int = typer.Option(2, "--threads", help="Threads for the similarity search."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write the HTML report afterwards."),
    lda: bool | None = typer.Option(None, "--lda/--no-lda", help="Require / skip LDA (default: when labelled)."),
    dicts: list[str] = typer.Option([], "--dict", help="User dictionary TSV (repeatable); default for Korean: "
                                    "dictionaries/ko/news.tsv. `--dict none` uses none."),
    stopwords: str | None = typer.Option(None, "--stopwords", help="ko, en, a file, or none; default: the "
                                         "language's dictionaries/<lang>/stopwords.txt."),
) -> None:
    """Build TF-IDF, similar, keywords, PCA/LDA projections and clusters for DATASET."""
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
    doc_id: str | None = typer.Option(None, "--id", help="Neighbours of this document."),
    text: str | None = typer.Option(None, "--text", help="Neighbours of this text."),
    k: int = typer.Option(10, "--k", help="How many neighbours."),
    measure: str = typer.Option("cosine", "--measure", help="cosine (TF-IDF) | jaccard (term sets, --id only)."),
) -> None:
    """Most similar documents (TF-IDF cosine) from the persisted index, in milliseconds."""
    from nlpkit.features.build import load_index

    if (doc_id is None) == (text is None):
        raise FeatureError("give exactly one of --id ID or --text \"...\"")
    if measure not in ("cosine", "jaccard"):
        raise FeatureError(f"--measure {measure!r}: choose cosine or jaccard")
    if measure == "jaccard" and doc_id is None:
        raise FeatureError("--measure jaccard compares indexed documents: give --id")
    index = load_index(get_store(), dataset)
    if text is not None:
        index.warm_up()  # tokenizer start-up is not part of the query time
    t0 = time.perf_counter()
    if measure == "jaccard":
        hits = index.jaccard_by_id(doc_id or "", k)
    else:
        hits = index.by_id(doc_id, k) if doc_id is not None else index.by_text(text or "", k)
    ms = (time.perf_counter() - t0) * 1e3
    table = Table("rank", "id", "score")
    for h in hits:
        table.add_row(str(h.rank), h.id, f"{h.score:.4f}")
    console.print(table)
    console.print(f"{len(hits)} neighbours in {ms:.1f} ms" + ("" if hits else " (no indexed term in the query)"))


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
