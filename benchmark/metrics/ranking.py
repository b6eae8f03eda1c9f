"""Pessimistic ranking of one block of scores: the ranks of every relevant candidate over the
full pool, and the pool's top k, in one compiled pass per query.

PROTOCOL.md: a non-relevant candidate whose score equals a relevant one's ranks ahead of it, so a
constant encoder lands at the bottom instead of at 1.0. With a query's relevant candidates ordered
by score (best first), the j-th of them (1-based) then sits at

    rank_j = #(non-relevant candidates scoring >= its score) + j

so the ranks need one counting pass over the pool, no sort. The same pass keeps the k + R best
scores (R = answers of the query) in a min-heap; ordering those by (score descending,
non-relevant before relevant) and keeping k gives exactly the pessimistic top k whatever the
tie-break at the heap's edge, since at most R of them are relevant. The cutoff metrics read
that top k, so they and AP see one ranking.

A score that is not finite (NaN, +inf, -inf) should never reach this kernel (embeddings and scores
are checked before), but as a last line of defence it counts as the worst possible score, below
every finite one, for relevant and non-relevant candidates alike, and ties with the other
non-finite ones pessimistically: a NaN relevant candidate ranks at the bottom, and a NaN or +inf
never wins. (Plain comparisons would do the opposite: NaN never beats anything, so a row of NaN
would rank every relevant candidate first.) In the top k such a score is reported as -inf.

The kernel is compiled by numba (already a dependency of ranx) without the GIL, so the settings of
a block rank on parallel threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _sift_down(heap_scores, heap_cols, size, pos):  # pragma: no cover - compiled
    """Restore the min-heap below ``pos`` (smallest score at the root)."""
    while True:
        left = 2 * pos + 1
        if left >= size:
            return
        child = left
        if left + 1 < size and heap_scores[left + 1] < heap_scores[left]:
            child = left + 1
        if heap_scores[child] < heap_scores[pos]:
            heap_scores[pos], heap_scores[child] = heap_scores[child], heap_scores[pos]
            heap_cols[pos], heap_cols[child] = heap_cols[child], heap_cols[pos]
            pos = child
        else:
            return


@njit(cache=True, nogil=True)
def _key(v):  # pragma: no cover - compiled
    """The score as ranked: non-finite ones are the worst, -inf."""
    return v if math.isfinite(v) else -np.inf


@njit(cache=True, nogil=True)
def _rank_rows(scores, relevant, k, largest, ranks, top_cols, top_scores):  # pragma: no cover - compiled
    """``largest``: the largest finite value of the scores' dtype (a score above it is +inf)."""
    n, pool = scores.shape
    width = relevant.shape[1]
    keep = min(pool, k + width) if k > 0 else 0
    heap_scores = np.empty(keep, dtype=scores.dtype)
    heap_cols = np.empty(keep, dtype=np.int64)
    rel_cols = np.empty(width, dtype=np.int64)
    rel_scores = np.empty(width, dtype=np.float64)
    for i in range(n):
        row = scores[i]
        # the relevant candidates' scores, best first
        count = 0
        for j in range(width):
            c = relevant[i, j]
            if c >= 0:
                rel_cols[count] = c
                rel_scores[count] = _key(row[c])
                count += 1
        thresholds = np.sort(rel_scores[:count])[::-1]
        # ranks: one vectorisable counting pass over the pool per relevant candidate
        for j in range(count):
            at_least = pool  # the worst score: every candidate is at least as good
            if thresholds[j] > -np.inf:
                t = scores.dtype.type(thresholds[j])
                at_least = 0
                for p in range(pool):
                    v = row[p]
                    at_least += (v >= t) & (v <= largest)  # false for NaN and +inf
            relevant_at_least = 0
            for jj in range(count):
                relevant_at_least += thresholds[jj] >= thresholds[j]
            ranks[i, j] = at_least - relevant_at_least + j + 1
        for j in range(count, width):
            ranks[i, j] = 0
        if keep == 0:
            continue
        # top k: the keep best in a min-heap (a candidate must beat the worst kept to enter)
        for p in range(keep):
            heap_scores[p] = _key(row[p])
            heap_cols[p] = p
        for pos in range(keep // 2 - 1, -1, -1):
            _sift_down(heap_scores, heap_cols, keep, pos)
        for p in range(keep, pool):
            v = _key(row[p])
            if v > heap_scores[0]:
                heap_scores[0] = v
                heap_cols[0] = p
                _sift_down(heap_scores, heap_cols, keep, 0)
        # best first; within equal scores non-relevant before relevant, then by column
        perm = np.argsort(-heap_scores.astype(np.float64))
        start = 0
        while start < keep:
            end = start + 1
            while end < keep and heap_scores[perm[end]] == heap_scores[perm[start]]:
                end += 1
            for a in range(start + 1, end):  # insertion sort of the (short) tie run
                item = perm[a]
                item_rel = _member(heap_cols[item], rel_cols, count)
                b = a - 1
                while b >= start:
                    other = perm[b]
                    other_rel = _member(heap_cols[other], rel_cols, count)
                    if other_rel > item_rel or (other_rel == item_rel and heap_cols[other] > heap_cols[item]):
                        perm[b + 1] = other
                        b -= 1
                    else:
                        break
                perm[b + 1] = item
            start = end
        for q in range(keep):
            top_cols[i, q] = heap_cols[perm[q]]
            top_scores[i, q] = heap_scores[perm[q]]


@njit(cache=True, nogil=True)
def _member(col, rel_cols, count):  # pragma: no cover - compiled
    for j in range(count):
        if rel_cols[j] == col:
            return 1
    return 0


def rank_block(scores: np.ndarray, relevant: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ranks, top columns, top scores) of a block.

    ``scores``: (n, P) similarities of n queries to the P candidates of a pool (should be finite:
    a non-finite one ranks as the worst score and is reported as -inf in the top).
    ``relevant``: (n, R) column indices into the pool, padded with -1.
    ``ranks``: (n, R) 1-based ranks, ascending per row, 0 where padded.
    top: (n, min(k, P)) columns and scores, best first, pessimistic among ties (k = 0: none).
    """
    if scores.dtype not in (np.float32, np.float64):  # the kernel is compiled for these two
        scores = scores.astype(np.float64)
    n, pool = scores.shape
    width = max(1, relevant.shape[1])
    relevant = np.ascontiguousarray(relevant, dtype=np.int64).reshape(n, -1)
    if relevant.shape[1] == 0:
        relevant = np.full((n, 1), -1, dtype=np.int64)
    ranks = np.zeros((n, width), dtype=np.int64)
    depth = min(k, pool)
    buffer_width = min(pool, depth + width) if depth else 0
    top_cols = np.empty((n, buffer_width), dtype=np.int64)
    top_scores = np.empty((n, buffer_width), dtype=scores.dtype)
    _rank_rows(scores, relevant, depth, np.finfo(scores.dtype).max, ranks, top_cols, top_scores)
    return ranks, top_cols[:, :depth], top_scores[:, :depth]
