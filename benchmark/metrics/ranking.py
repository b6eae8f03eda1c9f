"""Pessimistic ranks of relevant candidates over a full pool, without sorting the pool.

PROTOCOL.md: a non-relevant candidate whose score equals a relevant one's ranks ahead of it, so a
constant encoder lands at the bottom instead of at 1.0. With the relevant candidates ordered by
score (best first), the j-th of them (1-based) then sits at

    rank_j = #(non-relevant candidates scoring >= its score) + j

which needs one comparison pass over the pool per relevant candidate: O(R * P) per query instead
of the O(P log P) of a sort, with R (answers per query) at most a dozen here.
"""

from __future__ import annotations

import numpy as np


def pessimistic_ranks(scores: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Ranks (1-based, ascending per row) of each query's relevant candidates; 0 where padded.

    ``scores``: (n, P) finite similarities of n queries to the P candidates of a pool.
    ``relevant``: (n, R) column indices into the pool, padded with -1.
    """
    valid = relevant >= 0
    rel_scores = np.take_along_axis(scores, np.where(valid, relevant, 0), axis=1)
    # padding scores +inf: nothing in the pool reaches it, so it counts nothing
    rel_scores = np.where(valid, rel_scores, np.inf).astype(scores.dtype)
    order = np.argsort(np.where(valid, -rel_scores.astype(np.float64), np.inf), axis=1, kind="stable")
    rel_sorted = np.take_along_axis(rel_scores, order, axis=1)
    valid_sorted = np.take_along_axis(valid, order, axis=1)
    at_least = np.empty(relevant.shape, dtype=np.int64)
    for j in range(relevant.shape[1]):
        at_least[:, j] = np.count_nonzero(scores >= rel_sorted[:, j, None], axis=1)
    relevant_at_least = np.count_nonzero(
        valid_sorted[:, None, :] & (rel_sorted[:, None, :] >= rel_sorted[:, :, None]), axis=2
    )
    ranks = at_least - relevant_at_least + np.arange(1, relevant.shape[1] + 1)
    return np.where(valid_sorted, ranks, 0)
