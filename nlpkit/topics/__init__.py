"""News topics: a classifier trained on the labelled Korean news corpus, applied to stored articles.

- :mod:`nlpkit.topics.classifier`: ``load_topic_classifier(store, "baseline:korean_news" | model_dir)``
  -> a :class:`TopicClassifier` whose ``predict(texts)`` gives label id, name and probability.
- :mod:`nlpkit.topics.apply`: ``apply_topics(store, clf)`` appends predictions for the articles this
  model version has not seen to the ``article_topics`` table (the flow ``topics-news`` after ingest).
- :mod:`nlpkit.topics.cv`: ``cross_validate_baseline(store, "korean_news")``: k-fold accuracy.

Importing this package imports neither torch nor scikit-learn.
"""

from __future__ import annotations

from nlpkit.topics.apply import ARTICLE_TOPICS, ARTICLE_TOPICS_SCHEMA, ApplyReport, apply_topics
from nlpkit.topics.classifier import TopicClassifier, TopicPrediction, load_topic_classifier
from nlpkit.topics.cv import CVResult, cross_validate_baseline

__all__ = ["ARTICLE_TOPICS", "ARTICLE_TOPICS_SCHEMA", "ApplyReport", "CVResult", "TopicClassifier", "TopicPrediction",
           "apply_topics", "cross_validate_baseline", "load_topic_classifier"]
