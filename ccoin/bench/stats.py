"""Figures shared by both halves of the benchmark."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float, *, empty: float = math.nan) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; `empty` when there are none."""
    if not values:
        return empty
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
