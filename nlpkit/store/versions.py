"""Kept for imports written before the Delta store: the names now live in their own modules."""

from nlpkit.store.datasets import VersionInfo, VersionWriter
from nlpkit.store.layout import code_version, file_sha256, validate_name
from nlpkit.store.store import Store

__all__ = ["Store", "VersionInfo", "VersionWriter", "code_version", "file_sha256", "validate_name"]
