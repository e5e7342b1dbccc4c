"""Text normalisation: English review cleaning (``nlpkit.text.clean``)."""

__all__: list[str] = []
