"""Rank distance, the language-bias measure of arXiv 2408.10536.

For a query in the multilingual pool: max rank - min rank among its relevant candidates (one per
language holding the answer). An unbiased model ranks every language's answer together: 0.
"""

from __future__ import annotations

import numpy as np


def rank_distance(ranks: np.ndarray) -> np.ndarray:
    """Per-query max - min of the (n, R) ascending ranks padded with 0."""
    valid = ranks > 0
    if ranks.shape[1] == 0:
        return np.zeros(len(ranks))
    highest = ranks.max(axis=1)
    lowest = np.where(valid, ranks, np.iinfo(np.int64).max).min(axis=1)
    return np.where(valid.any(axis=1), highest - lowest, 0).astype(np.float64)
