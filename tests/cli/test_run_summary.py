"""The `make run` closing summary's one line per flow: a key figure, never a Python dict."""

from __future__ import annotations

import pytest

from nlpkit.cli.run_summary import flow_line, key_figure
from nlpkit.flowspec import FlowResult


def _res(flow: str, value: object, rows: int | None = None, state: str = "completed", error: str = "") -> FlowResult:
    return FlowResult(flow, state, "2026-12-06T15:00:00+00:00", 12.34, error=error, result=str(value), rows=rows,
                      value=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("res", "figure"), [
    (_res("datasets", {"imdb": {"version": "v1", "rows": 100000}, "nsmc": {"rows": 200000}}, rows=300000),
     "300,000 rows"),
    (_res("train-classifier-imdb", {"model": "models/imdb_lstm", "best_valid_accuracy": 0.8712, "test_accuracy": 0.86543,
                                    "test_f1": 0.86, "reloaded_test": {"accuracy": 0.9, "n": 1000}}), "test accuracy 0.865"),
    (_res("train-lm-korean-news", {"model": "models/news_lm", "valid_nats_per_char": 1.85, "test_loss": 1.9,
                                   "test_nats_per_char": 1.91834}),
     "1.918 nats/char"),
    (_res("train-seq2seq-addition", {"test_exact_match": 0.9871, "test_loss": 0.01}), "exact match 0.987"),
    (_res("topics-news", {"model": "baseline:korean_news", "skipped": "language=en: 57"}, rows=0, state="skipped"),
     "language=en: 57"),
    (_res("topics-news", {"model": "baseline:korean_news", "articles": 62, "predicted": 2, "labels": {"사회": 1, "정치": 1},
                          "not_classified": {"language=en": 57, "language=ru": 2, "language=und": 1}}, rows=62),
     "2 classified: 사회 1, 정치 1, 62 rows"),
    (_res("broken", None, state="failed", error="ValueError: broken on purpose\nTraceback ..."),
     "ValueError: broken on purpose Traceback ..."),
])
def test_each_flow_reads_as_its_key_figure(res: FlowResult, figure: str) -> None:
    assert key_figure(res) == figure
    line = flow_line(res)
    assert line.startswith(f"{res.state:9}  {res.flow}") and line.endswith(figure) and "12.3 s" in line
    assert "{" not in line and "'" not in line  # no Python dict, no repr
