"""Average precision over the full ranking (PROTOCOL.md, "Scores").

AP of a query = mean over its relevant candidates of (relevant seen so far / rank). With the ranks
of :func:`benchmark.metrics.ranking.rank_block` (ascending, 0 = padding), "relevant seen so
far" at the j-th relevant candidate is simply j.
"""

from __future__ import annotations

import numpy as np


def average_precision(ranks: np.ndarray) -> np.ndarray:
    """Per-query AP from (n, R) ascending ranks padded with 0; a query without answers scores 0."""
    valid = ranks > 0
    seen = np.cumsum(valid, axis=1)
    precision = np.where(valid, seen / np.where(valid, ranks, 1), 0.0)
    count = valid.sum(axis=1)
    return np.divide(precision.sum(axis=1), count, out=np.zeros(len(ranks)), where=count > 0)
