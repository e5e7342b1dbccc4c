"""The embedded output store: versioned datasets and append-only tables as Delta Lake tables,
plus a sandboxed, read-only SQL over them (a fresh in-memory DuckDB per query)."""

from nlpkit.store.datasets import VersionInfo, VersionWriter
from nlpkit.store.layout import validate_name
from nlpkit.store.sql import ALLOWED_STATEMENTS, Catalog, QueryResult, SqlSandbox
from nlpkit.store.store import Store

__all__ = ["ALLOWED_STATEMENTS", "Catalog", "QueryResult", "SqlSandbox", "Store", "VersionInfo", "VersionWriter",
           "validate_name"]
