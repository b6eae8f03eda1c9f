"""Accuracy of bitext retrieval (PROTOCOL.md, "Tatoeba"; the LASER / XTREME measure).

A query scores 1 when a relevant candidate ranks first, ties pessimistic: a non-relevant candidate
with the relevant one's score ranks ahead of it, so a constant encoder scores 0, not 1. With the
ranks of :func:`benchmark.metrics.ranking.rank_block` (ascending, 0 = padding) that is simply
whether the best relevant rank is 1. Error rate = 1 - accuracy.
"""

from __future__ import annotations

import numpy as np


def accuracy(ranks: np.ndarray) -> np.ndarray:
    """Per-query 1.0 / 0.0 from (n, R) ascending ranks padded with 0 (no answers: 0.0)."""
    if ranks.shape[1] == 0:
        return np.zeros(len(ranks))
    return (ranks[:, 0] == 1).astype(np.float64)
