"""Ranges of the numbers flows.yaml may hold, and whether a cron schedule can fire.

``retries: 1e32`` was retried forever, ``max_cpu_minutes: 1e400`` and ``epochs: 1e29`` were accepted,
crons for February 30 never fired: every number under a known flow-parameter name has a range
here (:data:`PARAMETER_RANGES`), every other number must be finite and moderate, and a cron must
fire at least once (:func:`cron_fires`). :mod:`nlpkit.settings` applies them to flows and profiles,
so ``flows validate``, ``run`` and ``serve`` refuse the same files.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

__all__ = ["MAX_ABS_NUMBER", "MAX_INTERVAL_S", "MIN_INTERVAL_S", "PARAMETER_RANGES", "check_numbers", "cron_fires"]

#: Longest interval between scheduled runs (a year) and the shortest (a second).
MAX_INTERVAL_S = 366 * 24 * 3600.0
MIN_INTERVAL_S = 1.0
#: Range of a number under each flow-parameter name (flows and profiles); any other number must be
#: finite and within +-MAX_ABS_NUMBER. A value out of range is an error naming the flow and key.
PARAMETER_RANGES: dict[str, tuple[float, float]] = {
    "retries": (0, 10), "epochs": (1, 100_000), "max_cpu_minutes": (0.01, 10_080), "max_minutes": (0.01, 10_080),
    "java_heap_mb": (128, 65_536), "doc_budget_s": (0.01, 86_400), "time_limit_s": (0.01, 86_400),
    "batch_size": (1, 1_000_000), "threads": (1, 256), "interval": (MIN_INTERVAL_S, MAX_INTERVAL_S),
    "lr": (0, 10), "dropout": (0, 1), "valid_fraction": (0, 1), "hidden_size": (1, 65_536),
    "embed_dim": (1, 65_536), "num_layers": (1, 64), "max_vocab": (1, 10_000_000), "max_len": (1, 1_000_000),
    "seq_len": (1, 1_000_000), "warmup_steps": (0, 10_000_000), "k": (1, 100_000), "timeout": (0.01, 86_400),
    "max_run_chars": (8, 1_000_000), "max_docs": (0, 1_000_000_000), "limit": (0, 1_000_000_000),
    "eval_limit": (0, 1_000_000_000), "n_train": (0, 1_000_000_000), "n_test": (0, 1_000_000_000),
    "seed": (0, 2**32 - 1), "port": (1, 65_535), "reload_check_limit": (0, 1_000_000_000), "max_digits": (1, 100),
}
MAX_ABS_NUMBER = 1e12
_NUMBER_TEXT = re.compile(r"[-+]?(\d[\d_]*\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?\.?(inf|nan)", re.IGNORECASE)


def check_numbers(value: Any, where: str, path: str = "") -> list[str]:
    """Problems with the numbers inside a flow parameter value (recursively), each naming ``where`` and the key.

    A number (or a string YAML 1.1 left unread, such as ``1e32``) under a key of
    :data:`PARAMETER_RANGES` must lie in its range; every other number must be finite and
    within +-:data:`MAX_ABS_NUMBER`.

    >>> check_numbers({"epochs": "1e29", "lr": 0.001}, "flow 'x'")
    ["flow 'x', key 'epochs': 1e29 is out of range; expected a number from 1 to 100000"]
    """
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in check_numbers(v, where, f"{path}.{k}" if path else str(k))]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in check_numbers(v, where, path)]
    key = path.rsplit(".", 1)[-1]
    rng = PARAMETER_RANGES.get(key or "")
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        number = float(value) if abs(value) < 10**300 else math.inf
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str) and rng is not None and _NUMBER_TEXT.fullmatch(value.strip()):
        number = float(value.replace("_", ""))
    else:
        return []
    lo, hi = rng if rng is not None else (-MAX_ABS_NUMBER, MAX_ABS_NUMBER)
    if math.isfinite(number) and lo <= number <= hi:
        return []
    shown = value if isinstance(value, str) else f"{number:g}"
    return [f"{where}, key '{path}': {shown} is out of range; expected a number from {lo:g} to {hi:g}"]


def cron_fires(cron: str, timezone: str) -> datetime | None:
    """The next time ``cron`` fires after now in ``timezone``, or None when it never does (``0 0 30 2 *``)."""
    from zoneinfo import ZoneInfo

    from croniter import CroniterBadDateError, croniter

    try:
        return croniter(cron, datetime.now(ZoneInfo(timezone))).get_next(datetime)  # type: ignore[no-any-return]
    except (CroniterBadDateError, ValueError, OverflowError):
        return None
