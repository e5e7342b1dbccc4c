"""Classical models: the TF-IDF + logistic-regression baseline (``nlpkit.models.baseline``)."""

__all__: list[str] = []
