"""The Models page's predict box and the articles' predicted topics, checked against the models and the
``article_topics`` table directly (not through the app)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from nlpkit.datasets.registry import BUILDERS
from nlpkit.store import SqlSandbox, Store
from nlpkit.topics.classifier import load_topic_classifier

SENTENCE = "정부가 반도체 수출 지원 대책을 발표했다"
NAMES = set(BUILDERS["korean_news"].label_names.values())


def _prediction(text: str) -> tuple[str, float]:
    m = re.search(r'<b class="label">([^<]*)</b> with probability <span class="probability">([\d.]+)</span>', text)
    assert m, text[-1500:]
    return html.unescape(m.group(1)), float(m.group(2))


def test_predict_box_names_the_label_of_a_korean_sentence(client, ui_store: Store) -> None:
    r = client.get("/models", params={"model": "baseline:korean_news", "text": SENTENCE})
    assert r.status_code == 200
    label, probability = _prediction(r.text)
    want = load_topic_classifier(ui_store, "baseline:korean_news").predict([SENTENCE])[0]
    assert label == want.name and label in NAMES  # a name, not an id
    assert probability == round(want.probability, 2) and 0 < probability <= 1
    assert 'value="baseline:korean_news" selected' in r.text  # the form keeps the choice


def test_predict_box_uses_a_saved_rnn_classifier(client, rnn_model: Path) -> None:
    page = client.get("/models").text
    assert f'value="{rnn_model}"' in page and "RNN classifier news_rnn" in page
    r = client.get("/models", params={"model": str(rnn_model), "text": SENTENCE})
    assert r.status_code == 200, re.findall(r'id="error">([^<]*)', r.text)
    label, probability = _prediction(r.text)
    assert label in NAMES and 0 < probability <= 1


@pytest.mark.parametrize(("params", "message"), [
    ({"model": "/etc", "text": SENTENCE}, "unknown model &#39;/etc&#39;: pick one of the saved models"),
    ({"model": "baseline:korean_news", "text": "   "}, "nothing to classify"),
    ({"model": "baseline:korean_news", "text": "a" * 20_001}, "the text has 20,001 characters"),
])
def test_predict_box_refuses_bad_input_in_one_line(client, params: dict[str, str], message: str) -> None:
    r = client.get("/models", params=params)
    assert r.status_code == 400
    errors = re.findall(r'id="error">([^<]*)<', r.text)
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert 'id="runs"' in r.text or "No flow runs" in r.text  # the rest of the page still shows


def _topics(store: Store) -> dict[str, tuple[str, float]]:
    _, rows = SqlSandbox(store).query("SELECT article_id, label_name, probability FROM article_topics "
                                      "WHERE label_name IS NOT NULL")
    return {a: (n, p) for a, n, p in rows}


def test_topic_filter_narrows_the_list_to_that_topic(client, ui_store: Store) -> None:
    topics = _topics(ui_store)
    assert topics, "the fixture's baseline predicted no topic for the saved Naver articles"
    everything = client.get("/articles", params={"dataset": "articles"}).text
    total = int(re.search(r'id="count">([\d,]+) documents', everything).group(1).replace(",", ""))
    menu = re.search(r'<select name="topic">(.*?)</select>', everything, re.S).group(1)
    assert sorted(re.findall(r"<option >([^<]*)</option>", menu)) == sorted({n for n, _ in topics.values()})
    for name in {n for n, _ in topics.values()}:
        r = client.get("/articles", params={"dataset": "articles", "topic": name})
        shown = re.findall(r'href="/article\?dataset=articles&(?:amp;)?id=([^"]*)"', r.text)
        from urllib.parse import unquote

        want = {a for a, (n, _) in topics.items() if n == name}
        assert {unquote(s) for s in shown} == want
        assert f"{len(want):,} documents" in r.text and len(want) < total
        assert all(f"topic: {name}" in m for m in re.findall(r'class="meta">([^<]*)<', r.text))


def test_article_page_shows_the_predicted_topic(client, ui_store: Store) -> None:
    article, (name, probability) = next(iter(_topics(ui_store).items()))
    r = client.get("/article", params={"dataset": "articles", "id": article})
    shown = re.search(r'<p id="topic">Predicted topic: <b>([^<]*)</b> \(probability ([\d.]+)', r.text)
    assert shown and shown.group(1) == name and float(shown.group(2)) == round(probability, 2)


def test_topic_filter_without_predictions_is_one_line(client) -> None:
    r = client.get("/articles", params={"dataset": "korean_news", "topic": "politics"})
    assert r.status_code == 400
    assert re.findall(r'id="error">([^<]*)<', r.text) == [
        "topic=&#39;politics&#39;: korean_news has no predicted topics (run `nlpkit topics apply`)"]
