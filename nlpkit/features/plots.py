"""PNG plots of the feature outputs (matplotlib, Agg backend; Korean text drawn with NanumGothic).

Every function takes plain arrays/dicts and an output path and returns that path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["scatter", "explained_variance", "silhouette_vs_k", "top_terms_panels", "confusion"]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    # a Korean-capable font from the optional koreanize-matplotlib package (found, not imported:
    # importing it changes global settings); DejaVu otherwise
    import importlib.util

    spec = importlib.util.find_spec("koreanize_matplotlib")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        ttf = Path(loc) / "fonts" / "NanumGothic.ttf"
        if ttf.is_file():
            if "NanumGothic" not in {f.name for f in font_manager.fontManager.ttflist}:
                font_manager.fontManager.addfont(str(ttf))
            plt.rcParams["font.family"] = ["NanumGothic", "DejaVu Sans"]
            plt.rcParams["axes.unicode_minus"] = False
            break
    return plt


def _save(fig: Any, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return out


def scatter(coords: np.ndarray, groups: Sequence[object], title: str, out: str | Path,
            xlabel: str = "component 1", ylabel: str = "component 2", max_points: int = 5000, seed: int = 13) -> Path:
    """2-D scatter coloured by group (label or cluster); a random sample when there are many points."""
    plt = _plt()
    g = np.asarray([str(v) for v in groups], dtype=object)
    idx = np.arange(coords.shape[0])
    if idx.size > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_points, replace=False))
    xy = coords[idx]
    y = xy[:, 1] if xy.shape[1] > 1 else np.random.default_rng(seed).uniform(-0.5, 0.5, idx.size)
    fig, ax = plt.subplots(figsize=(7.5, 6))
    cmap = plt.get_cmap("tab10" if len(set(g)) <= 10 else "tab20")
    for i, name in enumerate(sorted(set(g[idx].tolist()))):
        m = g[idx] == name
        ax.scatter(xy[m, 0], y[m], s=8, alpha=0.6, color=cmap(i % cmap.N), label=f"{name} ({int(m.sum())})")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel if xy.shape[1] > 1 else "(jitter)")
    ax.grid(alpha=0.3)
    ax.legend(markerscale=2, fontsize=8, loc="best")
    return _save(fig, out)


def explained_variance(ratios: Sequence[float], title: str, out: str | Path) -> Path:
    """Explained variance ratio per component and its running total."""
    plt = _plt()
    r = np.asarray(ratios, dtype=float)
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(1, r.size + 1)
    ax.bar(x, r, color="tab:blue", label="per component")
    ax2 = ax.twinx()
    ax2.plot(x, np.cumsum(r), color="tab:red", marker=".", label="cumulative")
    ax.set_xlabel("component")
    ax.set_ylabel("explained variance ratio")
    ax2.set_ylabel("cumulative", color="tab:red")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return _save(fig, out)


def silhouette_vs_k(scores: Sequence[Mapping[str, float]], chosen: int, title: str, out: str | Path) -> Path:
    """Silhouette (and inertia) for every k tried, the chosen k marked."""
    plt = _plt()
    ks = [int(s["k"]) for s in scores]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(ks, [s["silhouette"] for s in scores], marker="o", label="silhouette")
    ax.axvline(chosen, color="gray", linestyle="--", label=f"chosen k = {chosen}")
    ax2 = ax.twinx()
    ax2.plot(ks, [s["inertia"] for s in scores], marker=".", color="tab:orange", label="inertia (elbow)")
    ax2.set_ylabel("inertia", color="tab:orange")
    ax.set_xlabel("k")
    ax.set_ylabel("silhouette")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    return _save(fig, out)


def top_terms_panels(terms: Mapping[str, Sequence[tuple[str, float]]], title: str, out: str | Path,
                     per_panel: int = 8) -> Path:
    """One small bar chart of top terms per group (cluster, class)."""
    plt = _plt()
    keys = list(terms)
    cols = min(4, max(1, len(keys)))
    rows = int(np.ceil(len(keys) / cols)) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, key in zip(axes.ravel(), keys):
        pairs = list(terms[key])[:per_panel][::-1]
        ax.axis("on")
        ax.barh([p[0] for p in pairs], [p[1] for p in pairs], color="tab:green")
        ax.set_title(str(key), fontsize=10)
        ax.tick_params(labelsize=8)
    fig.suptitle(title)
    return _save(fig, out)


def confusion(matrix: np.ndarray, classes: Sequence[str], title: str, out: str | Path) -> Path:
    """Confusion matrix (rows: true class, columns: predicted) with counts in the cells."""
    plt = _plt()
    m = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(classes), 0.8 + 0.6 * len(classes)))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if m[i, j] > m.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return _save(fig, out)
