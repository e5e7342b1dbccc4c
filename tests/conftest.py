"""Shared fixtures: the real data in ../shared/data, a temporary store, one Prefect harness."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
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


#: The most reviews per folder any test takes from the real IMDB tarball (``imdb_sample``).
IMDB_SAMPLE_MAX = 300


@pytest.fixture(scope="session")
def imdb_sample(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """``imdb_sample(n)``: an aclImdb-shaped tarball of the first ``n`` real reviews of each folder.

    Reaching the last folder (train/unsup) means streaming the whole 84 MB archive (~4.5 CPU s), so it is
    read once per session into a 300-per-folder slice; smaller samples are cut from that slice. They are
    the same reviews as sampling the archive directly: both keep the first ``n`` of each folder in order.
    """
    from nlpkit.datasets.imdb import sample_tarball

    folder = tmp_path_factory.mktemp("imdb_sample")
    full = sample_tarball(shared_data / "imdb" / "aclImdb_v1.tar.gz", folder / f"imdb_{IMDB_SAMPLE_MAX}.tar.gz",
                          per_folder=IMDB_SAMPLE_MAX)

    def sample(n: int) -> Path:
        if not 1 <= n <= IMDB_SAMPLE_MAX:
            raise ValueError(f"imdb_sample takes 1..{IMDB_SAMPLE_MAX} reviews per folder, got {n}")
        dest = folder / f"imdb_{n}.tar.gz"
        return dest if dest.exists() else sample_tarball(full, dest, per_folder=n)

    return sample


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "data")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect database for the whole session (starting one costs ~10 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
