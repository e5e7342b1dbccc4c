"""Apply a topic classifier to the stored news articles, incrementally, into ``article_topics``.

``article_topics`` is an append-only table (one commit per run) with one row per
(article, model, model version)::

    article_id     the article's canonical URL (the key of ``articles``)
    model          e.g. ``tfidf_lr:korean_news`` or ``rnn:news_bilstm``
    model_version  the baseline dataset version (``v3``) or the RNN weights' sha256 prefix
    label          topic id (null when skipped)
    label_name     topic name: politics, economy, ... (null when skipped)
    probability    of that topic (null when skipped)
    skipped        why no topic was given: ``language=en`` (the model is Korean),
                   ``empty_body``, ``model_error: ...`` (null for a prediction)
    predicted_at   UTC time of the run

A run reads the article ids already in the table for this model and version and classifies only
the others, so the flow after each ingest touches new articles only; skipped articles are
recorded too, so they are not looked at again. A newly trained model version classifies
everything once. Runs are serialised by ``locks/article_topics.lock``.

Analysts join on the article id; the features build can colour by topic with::

    SELECT a.title, t.label_name, t.probability FROM articles a
    JOIN article_topics t ON t.article_id = a.canonical_url
    WHERE t.model = 'tfidf_lr:korean_news' AND t.label IS NOT NULL
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from nlpkit.errors import DatasetError
from nlpkit.store import Store
from nlpkit.topics.classifier import TopicClassifier

__all__ = ["ARTICLE_TOPICS", "ARTICLE_TOPICS_SCHEMA", "ApplyReport", "apply_topics"]

log = logging.getLogger(__name__)

ARTICLE_TOPICS = "article_topics"
ARTICLE_TOPICS_SCHEMA = pa.schema([
    ("article_id", pa.string()), ("model", pa.string()), ("model_version", pa.string()),
    ("label", pa.int64()), ("label_name", pa.string()), ("probability", pa.float64()),
    ("skipped", pa.string()), ("predicted_at", pa.timestamp("us", tz="UTC")),
])


@dataclass(slots=True)
class ApplyReport:
    """What one run did: articles seen, already done, newly predicted, skipped (by reason)."""

    model: str
    model_version: str
    articles: int = 0
    already_done: int = 0
    predicted: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)

    @property
    def written(self) -> int:
        return self.predicted + sum(self.skipped.values())


@contextlib.contextmanager
def _lock(store: Store) -> Iterator[None]:
    path = store.root / "locks" / f"{ARTICLE_TOPICS}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _done(store: Store, clf: TopicClassifier) -> set[str]:
    if ARTICLE_TOPICS not in store.tables():
        return set()
    t = store.read_appended(ARTICLE_TOPICS, ["article_id", "model", "model_version"]).to_pydict()
    return {a for a, m, v in zip(t["article_id"], t["model"], t["model_version"], strict=True)
            if m == clf.model and v == clf.version}


def _language(row: dict[str, object]) -> str:
    lang = str(row.get("language") or "").strip().lower()
    if lang and lang not in ("auto", "und"):
        return lang
    from nlpkit.news.metadata import detect_language

    return detect_language(str(row.get("body") or ""))


def apply_topics(store: Store, clf: TopicClassifier, *, language: str = "ko", batch_size: int = 256) -> ApplyReport:
    """Classify the ``articles`` in ``language`` that ``clf`` (this version) has not seen; append the rows.

    Articles in another language are recorded with ``skipped = 'language=<code>'``; an article the
    model cannot classify with ``model_error: ...``; neither stops the run. Returns counts.
    """
    if batch_size < 1:
        raise DatasetError(f"batch_size must be >= 1, got {batch_size}")
    report = ApplyReport(clf.model, clf.version)
    if "articles" not in store.tables():
        log.info("no articles table yet (nothing ingested); nothing to classify")
        return report
    with _lock(store):
        articles = store.read_appended("articles", ["canonical_url", "title", "body", "language"]).to_pylist()
        done = _done(store, clf)
        report.articles = len(articles)
        now = datetime.now(UTC)
        rows: list[dict[str, object]] = []
        todo: list[dict[str, object]] = []
        seen: set[str] = set()
        for a in articles:
            aid = str(a["canonical_url"])
            if aid in done or aid in seen:
                report.already_done += aid in done
                continue
            seen.add(aid)
            lang = _language(a)
            reason = (f"language={lang}" if lang != language else
                      "empty_body" if not str(a.get("body") or "").strip() else None)
            if reason:
                rows.append(_row(aid, clf, None, None, None, reason, now))
                report.skipped[reason.split(":")[0]] = report.skipped.get(reason.split(":")[0], 0) + 1
            else:
                todo.append(a)
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            texts = [str(a["body"]) for a in batch]  # the models were trained on bodies (korean_news `text`)
            for a, p in zip(batch, clf.predict(texts), strict=True):
                if p.error is not None:
                    rows.append(_row(str(a["canonical_url"]), clf, None, None, None, f"model_error: {p.error}", now))
                    report.skipped["model_error"] = report.skipped.get("model_error", 0) + 1
                    continue
                rows.append(_row(str(a["canonical_url"]), clf, p.label, p.name, p.probability, None, now))
                report.predicted += 1
                report.labels[str(p.name)] = report.labels.get(str(p.name), 0) + 1
        if rows:
            store.append(ARTICLE_TOPICS, pa.Table.from_pylist(rows, schema=ARTICLE_TOPICS_SCHEMA))
    log.info("topics %s %s: %d predicted, %d skipped, %d already done", clf.model, clf.version,
             report.predicted, sum(report.skipped.values()), report.already_done)
    return report


def _row(aid: str, clf: TopicClassifier, label: int | None, name: str | None, probability: float | None,
         skipped: str | None, now: datetime) -> dict[str, object]:
    return {"article_id": aid, "model": clf.model, "model_version": clf.version, "label": label,
            "label_name": name, "probability": probability, "skipped": skipped, "predicted_at": now}
