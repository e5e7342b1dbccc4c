"""Shared fixtures: the real data in ../shared/data, a temporary store, one Prefect harness."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlpkit.store import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("NLPKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))

# Offline NLTK data for every test (the library itself never reads the environment).
if (SHARED_DATA / "nltk_data").is_dir():
    os.environ.setdefault("NLTK_DATA", str(SHARED_DATA / "nltk_data"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("NLPKIT_NO_PROGRESS", "1")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data; CI always has it, so there a missing copy is a failure, not a skip."""
    if not SHARED_DATA.is_dir():
        msg = f"real data not found at {SHARED_DATA} (set NLPKIT_SHARED_DATA)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return SHARED_DATA


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "data")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect database for the whole session (starting one costs ~10 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
