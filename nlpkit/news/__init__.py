"""News ingestion: sources, polite fetching, encoding, extraction, deduplicated storage.

Import the pieces from their modules (``nlpkit.news.ingest``, ``nlpkit.news.fetch`` ...);
this package itself only exposes the settings models, so ``nlpkit.settings`` can use them
without importing httpx or the extractors.
"""

from nlpkit.news.sources import FetchOptions, NewsSettings, SiteRule, SourceSpec

__all__ = ["FetchOptions", "NewsSettings", "SiteRule", "SourceSpec"]
