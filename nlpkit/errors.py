"""Exception classes shared by the whole library.

Every error names the bad value and says what was expected, so a user can fix the input
without reading the source.
"""

from __future__ import annotations

__all__ = [
    "NlpkitError",
    "ConfigError",
    "DatasetError",
    "DatasetNotFoundError",
    "ReadOnlyQueryError",
    "QueryError",
    "QueryTimeoutError",
    "StoreConflictError",
    "StoreLayoutError",
    "StorageError",
    "SourceError",
    "MissingDependencyError",
    "ModelError",
    "CheckpointError",
    "FeatureError",
    "Interrupted",
]


class NlpkitError(Exception):
    """Base class of every error nlpkit raises on purpose."""


class ConfigError(NlpkitError, ValueError):
    """A settings file or option is invalid (the message names file, key and expectation)."""


class DatasetError(NlpkitError):
    """A dataset could not be written or read as asked."""


class DatasetNotFoundError(DatasetError, LookupError):
    """A dataset or dataset version does not exist in the store (``dataset``: the name asked for, when known)."""

    def __init__(self, *args: object, dataset: str | None = None) -> None:
        super().__init__(*args)
        self.dataset = dataset


class ReadOnlyQueryError(NlpkitError, PermissionError):
    """An analyst's SQL tried to change something; queries are read-only."""


class QueryError(DatasetError):
    """An analyst's SQL does not parse, names an unknown table, or fails while it runs."""


class QueryTimeoutError(QueryError, TimeoutError):
    """A query ran past its time limit and was interrupted."""


class StoreConflictError(DatasetError):
    """Another writer committed to the same table first and retrying did not help."""


class StoreLayoutError(DatasetError):
    """The data directory is in a layout this version does not read (e.g. the pre-Delta one)."""


class StorageError(DatasetError, OSError):
    """The data directory cannot be written or read: full disk, read-only file system, no permission."""


class SourceError(NlpkitError, OSError):
    """A data source (URL, file, directory) cannot be read or has the wrong shape."""


class MissingDependencyError(NlpkitError, ImportError):
    """An optional dependency is not installed (the message says which extra to install)."""


class ModelError(NlpkitError, ValueError):
    """A model was asked for something it cannot do (bad hyper-parameter, empty text, unknown prompt tokens)."""


class CheckpointError(ModelError):
    """A model directory is missing files, damaged, or does not match the model it should hold."""


class TokenizerError(NlpkitError):
    """A tokenizer backend cannot be created or run (unknown name, missing JDK, engine failure)."""


class TokenizeFailure(TokenizerError):
    """The engine failed on one text (a Java exception, a stale or malformed result, a time budget).

    ``Tokenizer.tokenize`` raises it; ``tokenize_batch`` yields a :class:`~nlpkit.tokenize.core.FailedTokens`
    (empty, carrying this error) for that text and goes on. ``reason`` is a short code
    (``engine_error``, ``over_budget``, ``timeout``) for rejects tables; the message says what happened.
    """

    def __init__(self, message: str, *, reason: str = "engine_error") -> None:
        super().__init__(message)
        self.reason = reason


class DictionaryError(TokenizerError, ValueError):
    """A user dictionary or stopword file is malformed (the message names file and line)."""


class FeatureError(NlpkitError, ValueError):
    """A feature step got unusable input (no labels for LDA, k too small, unknown id, bad matrix)."""


class Interrupted(NlpkitError):
    """A run was stopped by a signal after saving what it had; ``signum`` gives the exit code (128 + signum)."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum
