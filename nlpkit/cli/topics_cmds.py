"""News topic commands: `nlpkit topics apply|predict|cv`.

``apply`` is what the ``topics-news`` flow runs after each ingest (the same library call,
:func:`nlpkit.topics.apply_topics`); ``cv`` reports the baseline's k-fold accuracy.
"""

from __future__ import annotations

import typer
from rich.table import Table

from nlpkit.cli import app
from nlpkit.cli._common import console, get_store, handle_errors

topics_app = typer.Typer(name="topics", help="News topics: classify stored articles, cross-validate the classifier.",
                         no_args_is_help=True)
app.add_typer(topics_app, name="topics")

ModelOpt = typer.Option("baseline:korean_news", "--model", "-m",
                        help="baseline:<dataset> (the TF-IDF baseline) or an RNN classifier directory.")


@topics_app.command("apply")
@handle_errors
def apply_cmd(
    model: str = ModelOpt,
    language: str = typer.Option("ko", "--language", help="Articles in other languages are recorded as skipped."),
) -> None:
    """Classify the stored articles this model version has not seen; append rows to table article_topics."""
    from nlpkit.topics import ARTICLE_TOPICS, apply_topics, load_topic_classifier

    store = get_store()
    clf = load_topic_classifier(store, model)
    report = apply_topics(store, clf, language=language)
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(report.skipped.items())) or "none"
    console.print(f"{clf.model} {clf.version}: {report.articles} articles, {report.already_done} already done, "
                  f"{report.predicted} predicted, skipped: {skipped}")
    if report.labels:
        table = Table("topic", "articles")
        for name, n in sorted(report.labels.items(), key=lambda kv: -kv[1]):
            table.add_row(name, str(n))
        console.print(table)
    console.print(f"rows in table {ARTICLE_TOPICS}: nlpkit query \"SELECT label_name, count(*) FROM {ARTICLE_TOPICS} "
                  "WHERE label IS NOT NULL GROUP BY 1\"")


@topics_app.command("predict")
@handle_errors
def predict_cmd(
    texts: list[str] = typer.Argument(..., help="One or more texts."),
    model: str = ModelOpt,
) -> None:
    """Print a header, then one line per text: topic name, label id, probability, the text.

    A text in another language than the model's training data gets a warning line (on stderr).
    """
    from nlpkit.models.language import dataset_language, mismatch
    from nlpkit.topics import load_topic_classifier

    store = get_store()
    clf = load_topic_classifier(store, model)
    language = dataset_language(store.sql(), clf.dataset)
    typer.echo("topic\tlabel\tprobability\ttext")
    for text, p in zip(texts, clf.predict(texts), strict=True):
        short = text if len(text) <= 50 else text[:49] + "…"
        if p.error is not None:
            typer.echo(f"-\t-\t-\t{short}\t({p.error})")
        else:
            typer.echo(f"{p.name}\t{p.label}\t{p.probability:.3f}\t{short}")
        warning = mismatch(language, text)
        if warning:
            typer.echo(f"warning: {short[:30]}: {warning}", err=True)


@topics_app.command("cv")
@handle_errors
def cv_cmd(
    dataset: str = typer.Option("korean_news", "--dataset", "-d", help="A labelled dataset with a trained baseline."),
    folds: int = typer.Option(5, "--folds", help="Number of stratified folds (>= 2)."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """K-fold cross-validated accuracy of DATASET's saved TF-IDF baseline (its chosen C), with the fold spread."""
    from nlpkit.topics import cross_validate_baseline

    console.print(str(cross_validate_baseline(get_store(), dataset, folds=folds, seed=seed)), highlight=False)
