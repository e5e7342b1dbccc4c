"""The embedded output store: versioned Parquet datasets plus a DuckDB catalog of views."""

from nlpkit.store.catalog import ALLOWED_STATEMENTS, Catalog
from nlpkit.store.versions import Store, VersionInfo, VersionWriter, validate_name

__all__ = ["ALLOWED_STATEMENTS", "Catalog", "Store", "VersionInfo", "VersionWriter", "validate_name"]
