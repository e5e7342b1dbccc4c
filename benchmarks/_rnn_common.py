"""Helpers shared by the RNN benchmarks: store access, machine load, peak memory, a result line."""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path
from typing import Any

from nlpkit.settings import load_settings
from nlpkit.store import Store


def get_store(data_dir: str | None) -> Store:
    settings = load_settings("flows.yaml" if Path("flows.yaml").is_file() else None, os.environ)
    return Store(Path(data_dir) if data_dir else settings.data_dir)


def ensure_dataset(store: Store, name: str) -> None:
    """Build ``name`` with the dataset registry when the store lacks it (source from settings/env)."""
    if name in store.datasets():
        return
    from nlpkit.datasets.registry import rebuild

    settings = load_settings("flows.yaml" if Path("flows.yaml").is_file() else None, os.environ)
    print(f"[setup] building dataset {name} (not in {store.root}) ...", flush=True)
    t0 = time.perf_counter()
    rebuild(store, name, sources=settings.sources, nltk_data=settings.nltk_data)
    print(f"[setup] built {name} in {time.perf_counter() - t0:.0f} s", flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_cuda_mb() -> float | None:
    import torch

    return torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None


def machine() -> str:
    import torch

    load = os.getloadavg()
    return (f"{os.cpu_count()} CPUs, load avg {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}, torch {torch.__version__}, "
            f"threads {torch.get_num_threads()}, cuda {torch.cuda.is_available()}")


def report(title: str, rows: dict[str, Any]) -> None:
    print(f"\n== {title} ==")
    for k, v in rows.items():
        print(f"  {k:<34} {v:.4f}" if isinstance(v, float) else f"  {k:<34} {v}")
    print("  json:", json.dumps(rows, default=str))
