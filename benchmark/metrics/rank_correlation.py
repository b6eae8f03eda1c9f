"""Mean rank correlation (Yang, Jiang & Baldwin, arXiv 2509.06195; PROTOCOL.md "Language bias
beyond rank distance"): does the same question retrieve the same ranking whatever its language?

For a question id q present in languages a and b: Spearman's correlation, average ranks for ties,
between the full pool rankings that q in a and q in b produce. Per query (q, a): the mean over the
other languages b holding q; NaN when none does. Spearman is computed as the Pearson correlation
of the average ranks, exactly: an average rank is a half-integer, so a doubled rank is an integer,
and centred (minus the mean doubled rank, P + 1) it stays one, of magnitude at most P. Each product
of two is at most P^2 and any partial sum of P of them at most P^3, below 2^53 for pools of up to
208,000 candidates (XQuAD-R has 13,014, MLQA-R 20,534): float64 holds every sum exactly, in any
order, so a BLAS product gives the exact integers and only the final division rounds. A constant
ranking (every score tied) has no variance: its correlation counts as 0.

Ranks here are ascending (1 = the lowest score); descending ranks negate every centred rank of
both rankings, which leaves the correlation unchanged. A score that is not finite counts as -inf,
as everywhere else in xbench (:mod:`.ranking`).

This module is the arithmetic; :mod:`benchmark.engine.correlation` decides which rows are scored
together within the memory budget.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _centred_doubled_ranks(keys, order, out):  # pragma: no cover - compiled
    """Each row's doubled average ranks minus P + 1, from its ascending ``order``. A tie group at
    sorted positions start..end - 1 (0-based) holds ranks start + 1 .. end, whose doubled
    average is start + 1 + end."""
    n, pool = keys.shape
    for i in range(n):
        start = 0
        while start < pool:
            end = start + 1
            while end < pool and keys[i, order[i, end]] == keys[i, order[i, start]]:
                end += 1
            value = float(start + 1 + end - (pool + 1))
            for j in range(start, end):
                out[i, order[i, j]] = value
            start = end


def centred_doubled_ranks(scores: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(n, P) float64 integers: 2 x average rank - (P + 1) of every score in its row, equal to
    ``2 * scipy.stats.rankdata(row, method="average") - (P + 1)`` (non-finite scores as -inf);
    written into ``out`` when given (a float64 array of the same shape). numpy sorts (its
    vectorised sort is several times faster than a compiled loop's), the compiled pass walks
    the tie groups; the sort order takes 8 bytes per score while it lasts."""
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    if not np.isfinite(scores).all():
        scores = np.where(np.isfinite(scores), scores, -np.inf)
    if out is None:
        out = np.empty(scores.shape, dtype=np.float64)
    if scores.size:
        _centred_doubled_ranks(scores, np.argsort(scores, axis=1), out)
    return out


def spearman_matrix(ranks: np.ndarray) -> np.ndarray:
    """(k, k) Spearman correlations between the k rows of centred doubled ranks (one question in
    k languages): Pearson's r of the ranks, sum(x y) / sqrt(sum(x^2) sum(y^2)) with exact sums;
    0 where either ranking is constant."""
    gram = ranks @ ranks.T
    spread = np.sqrt(np.diag(gram))
    scale = np.outer(spread, spread)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, gram / np.where(scale > 0, scale, 1.0), 0.0)


def mean_over_others(correlations: np.ndarray) -> np.ndarray:
    """Per language (row) of one question, the mean correlation with the other languages holding
    it; NaN when it is the only one."""
    k = len(correlations)
    if k < 2:
        return np.full(k, np.nan)
    return np.where(np.eye(k, dtype=bool), 0.0, correlations).sum(axis=1) / (k - 1)
