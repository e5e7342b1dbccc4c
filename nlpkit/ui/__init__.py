"""`nlpkit ui`: a local, read-only web app over the store (articles, clusters, trends, models, SQL)."""

from nlpkit.ui.corpus import UiError
from nlpkit.ui.explorer import Explorer

__all__ = ["Explorer", "UiError"]
