"""What every flow needs at run time: the settings and the store, from flows.yaml + environment."""

from __future__ import annotations

import os
from pathlib import Path

from nlpkit.settings import Settings, load_settings
from nlpkit.store import Store


def settings() -> Settings:
    """Settings from NLPKIT_FLOWS (or ./flows.yaml when present) and this process's environment."""
    path = os.environ.get("NLPKIT_FLOWS") or ("flows.yaml" if Path("flows.yaml").is_file() else None)
    return load_settings(path, os.environ)


def store(data_dir: str | None = None) -> Store:
    """The store a flow writes to: ``data_dir`` when given, else the settings' data directory."""
    return Store(Path(data_dir) if data_dir else settings().data_dir)
