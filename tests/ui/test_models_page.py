"""Models and runs as an operator reads it: one row per model, rounded figures, confusion matrices under
the dataset's label names for every classifier kind, folded history; and the predict box's choice of a
model in the text's language. Checked against ``model_runs`` and :mod:`nlpkit.datasets.labels` directly."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from nlpkit.datasets.labels import label_names
from nlpkit.models.language import mismatch
from nlpkit.store import SqlSandbox, Store
from nlpkit.ui.models import SavedModel, _matching, _sample_note


def _confusion(page: str, caption: str) -> tuple[list[str], list[int]]:
    m = re.search(r'<table class="confusion"><caption>' + re.escape(caption) + r'[^<]*</caption>(.*?)</table>', page,
                  re.S)
    assert m, f"no confusion matrix captioned {caption!r}"
    header = [html.unescape(h) for h in re.findall(r"<th>([^<]*)</th>", m.group(1).split("</tr>")[0])[1:]]
    return header, [int(v) for v in re.findall(r'<td style="[^"]*">(\d+)</td>', m.group(1))]


def test_one_row_per_model_with_rounded_figures(client, ui_store: Store, rnn_model: Path) -> None:
    page = client.get("/models").text
    rows = re.findall(r'<tr class="model-row"><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>\s*'
                      r'<td class="metrics">(.*?)</td>', page, re.S)
    _, runs = SqlSandbox(ui_store).query("SELECT DISTINCT model, dataset, coalesce(model_dir, '') "
                                         "FROM model_runs")
    assert len(rows) == len(runs) >= 3  # cross-validated run, baseline, RNN: one row each, not one per evaluation
    assert len({(m, d) for m, d, _, _ in rows}) == len(rows)
    for _, _, _, figures in rows:
        assert not re.search(r"\d\.\d{4,}", figures), figures  # rounded, never 16 digits
    rnn_row = next(r for r in rows if r[0].startswith("rnn_"))
    assert rnn_row[2] == "test" and re.search(r"accuracy 0\.\d{3}", rnn_row[3])
    assert re.search(r'<details class="history"><summary>\d+ earlier evaluations</summary>', page)  # epochs folded


def test_every_classifier_shows_a_confusion_matrix_with_label_names(client, ui_store: Store, rnn_model: Path) -> None:
    page = client.get("/models").text
    names = set(label_names(ui_store, "korean_news").values())
    assert names == {"정치", "경제", "사회", "생활/문화", "세계", "기술/IT", "연예", "스포츠"}
    _, tests = SqlSandbox(ui_store).query("SELECT model, n FROM model_runs WHERE split = 'test' AND confusion IS NOT NULL")
    n_of = dict(tests)
    for model in ("tfidf_lr", "rnn_lstm"):
        header, cells = _confusion(page, f"{model} on korean_news, test")
        assert set(header) == names, header  # the dataset's names, the same as on Articles
        assert len(cells) == len(header) ** 2 and sum(cells) == n_of[model]


def test_articles_and_models_name_labels_alike(client, ui_store: Store) -> None:
    """One label-name source: the label filter on Articles offers exactly the names the Models page shows."""
    articles = client.get("/articles", params={"dataset": "korean_news"}).text
    models = client.get("/models").text
    header, _ = _confusion(models, "tfidf_lr on korean_news, test")
    for name in header:
        assert f'value="{html.escape(name)}"' in articles or f">{html.escape(name)}<" in articles, name


def test_predict_box_picks_a_model_in_the_texts_language(client, ui_store: Store) -> None:
    r = client.get("/models", params={"model": "auto", "text": "정부가 반도체 수출 지원 대책을 발표했다"})
    assert r.status_code == 200
    used = html.unescape(re.search(r'<span id="used-model">([^<]*)</span>', r.text).group(1))
    assert "korean_news" in used and "ko" in used
    assert 'id="language-warning"' not in r.text
    models = [SavedModel("baseline:imdb", "imdb", "v1", "en"), SavedModel("baseline:korean_news", "news", "v1", "ko")]
    assert _matching(models, "ko") == "baseline:korean_news" and _matching(models, "en") == "baseline:imdb"


def test_a_model_given_text_in_another_language_says_so(client) -> None:
    r = client.get("/models", params={"model": "baseline:korean_news",
                                      "text": "The government announced new support for chip exports and the market rose"})
    assert r.status_code == 200
    warning = html.unescape(re.search(r'id="language-warning">([^<]*)<', r.text).group(1))
    assert warning == ("the model was trained on Korean text; this text looks English (en): its answer means little")
    assert mismatch("ko", "반도체 수출이 늘었다") == "" and mismatch("und", "anything") == ""


def test_sampled_test_splits_state_their_sample_size() -> None:
    row = {"split": "test", "params": json.dumps({"notes": ["valid: a stratified sample of 1,000 of 14,999 rows "
                                                            "(eval_limit 1,000)",
                                                            "test: a stratified sample of 1,000 of 49,997 rows "
                                                            "(eval_limit 1,000)"]})}
    assert _sample_note(row) == "a stratified sample of 1,000 of 49,997 rows (eval_limit 1,000)"
    assert _sample_note({"split": "test", "params": "{}"}) == ""
    assert _sample_note({"split": "test", "params": "not json"}) == ""
