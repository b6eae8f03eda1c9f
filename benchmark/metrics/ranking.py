"""Pessimistic ranking over a pool that may arrive in shards: the ranks of every relevant
candidate, and the pool's top k, as sums and merges that do not depend on how the pool was cut.

PROTOCOL.md: a non-relevant candidate whose score equals a relevant one's ranks ahead of it, so a
constant encoder lands at the bottom instead of at 1.0. With a query's relevant candidates ordered
by score (best first), the j-th of them (1-based) then sits at

    rank_j = #(candidates scoring >= its score) - #(relevant ones scoring >= its score) + j

so the ranks need the relevant scores (the *thresholds*, known before the pool is scanned) and one
counting pass over the pool, no sort; and the count is a sum over any cut of the pool into shards
(:func:`count_at_least`). The top k is kept under one total order, best first: score descending,
then non-relevant before relevant (pessimistic), then column ascending. A total order makes the
top k of a pool the top k of the union of its shards' top k lists, whatever the cut and the order
the shards come in (:class:`TopList`). The cutoff metrics read that top k, so they and AP see one
ranking; the bias measures keep a top 10 under the same order without relevance (pool order).

A score that is not finite (NaN, +inf, -inf) should never reach this module (embeddings and scores
are checked before), but as a last line of defence it counts as the worst possible score, -inf,
for relevant and non-relevant candidates alike, and ties with the other non-finite ones
pessimistically: a NaN relevant candidate ranks at the bottom, and a NaN or +inf never wins.

The kernels are compiled by numba (already a dependency of ranx) without the GIL, so the settings
of a block rank on parallel threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

PADDING_REL = 2  # an empty slot of a top list: after every real candidate, even a relevant -inf one
PADDING_COL = np.iinfo(np.int64).max


@njit(cache=True, nogil=True)
def _key(v):  # pragma: no cover - compiled
    """The score as ranked: non-finite ones are the worst, -inf."""
    return v if math.isfinite(v) else -np.inf


@njit(cache=True, nogil=True)
def _count_rows(scores, thresholds, counts):  # pragma: no cover - compiled
    """counts[i, j] += #(p: key(scores[i, p]) >= thresholds[i, j]) for each row's valid (non-NaN,
    descending) thresholds. A candidate reaching threshold j reaches every later (lower) one, so
    it is filed once, under the first threshold it reaches, and the counts are prefix sums."""
    n, pool = scores.shape
    width = thresholds.shape[1]
    first = np.zeros(width + 1, dtype=np.int64)
    for i in range(n):
        valid = 0
        while valid < width and not math.isnan(thresholds[i, valid]):
            valid += 1
        if valid == 0:
            continue
        first[: valid + 1] = 0
        lowest = thresholds[i, valid - 1]
        for p in range(pool):
            v = _key(scores[i, p])
            if v < lowest:
                continue
            j = valid - 1
            while j > 0 and v >= thresholds[i, j - 1]:
                j -= 1
            first[j] += 1
        running = 0
        for j in range(valid):
            running += first[j]
            counts[i, j] += running


@njit(cache=True, nogil=True)
def _better(v, r, c, v2, r2, c2):  # pragma: no cover - compiled
    """The total order of top lists: higher score, then non-relevant, then lower column."""
    return v > v2 or (v == v2 and (r < r2 or (r == r2 and c < c2)))


@njit(cache=True, nogil=True)
def _member(col, relevant, i):  # pragma: no cover - compiled
    for j in range(relevant.shape[1]):
        if relevant[i, j] == col:
            return 1
    return 0


@njit(cache=True, nogil=True)
def _insert_rows(scores, offset, relevant, cols, vals, rels, sizes):  # pragma: no cover - compiled
    """Insert every column of a shard (``offset`` + position) into each row's sorted top list."""
    n, pool = scores.shape
    k = cols.shape[1]
    for i in range(n):
        size = sizes[i]
        for p in range(pool):
            v = _key(scores[i, p])
            c = offset + p
            if size == k and (v < vals[i, k - 1] or (v == vals[i, k - 1] and rels[i, k - 1] == 0 and c > cols[i, k - 1])):
                continue  # worse than the last kept, whatever its relevance (the common case: no lookup)
            r = _member(c, relevant, i)
            if size == k and not _better(v, r, c, vals[i, k - 1], rels[i, k - 1], cols[i, k - 1]):
                continue
            pos = size if size < k else k - 1
            while pos > 0 and _better(v, r, c, vals[i, pos - 1], rels[i, pos - 1], cols[i, pos - 1]):
                vals[i, pos], rels[i, pos], cols[i, pos] = vals[i, pos - 1], rels[i, pos - 1], cols[i, pos - 1]
                pos -= 1
            vals[i, pos], rels[i, pos], cols[i, pos] = v, r, c
            if size < k:
                size += 1
        sizes[i] = size


def count_at_least(scores: np.ndarray, thresholds: np.ndarray, counts: np.ndarray) -> None:
    """Add to ``counts`` (n, R) how many of the (n, P) ``scores`` reach each threshold (n, R:
    descending per row, NaN padding after the valid ones)."""
    if scores.dtype not in (np.float32, np.float64):  # the kernel is compiled for these two
        scores = scores.astype(np.float64)
    _count_rows(scores, thresholds, counts)


def thresholds_of(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(n, R) relevant scores as ranked (non-finite -> -inf), best first, NaN where ``present`` is
    False (padding last)."""
    keys = np.where(np.isfinite(values), values, -np.inf).astype(np.float64)
    keys = np.where(present, keys, np.nan)
    return -np.sort(-keys, axis=1)  # NaN sorts last either way


def ranks_from(counts: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """(n, R) 1-based pessimistic ranks, ascending, 0 where padded: rank_j = counts_j -
    #(relevant thresholds >= t_j) + j."""
    valid = ~np.isnan(thresholds)
    filled = np.where(valid, thresholds, -np.inf)
    relevant_at_least = (filled[:, None, :] >= filled[:, :, None]) & valid[:, None, :]
    position = np.arange(1, thresholds.shape[1] + 1)[None, :]
    return np.where(valid, counts - relevant_at_least.sum(axis=2) + position, 0).astype(np.int64)


@dataclass
class TopList:
    """Each row's best ``width`` candidates under the total order (module docstring), best first:
    ``cols`` (global columns), ``vals`` (scores as ranked), ``rels`` (1 relevant, 0 not;
    PADDING_REL in empty slots), ``sizes`` (filled slots)."""

    cols: np.ndarray
    vals: np.ndarray
    rels: np.ndarray
    sizes: np.ndarray

    @classmethod
    def empty(cls, n: int, width: int) -> "TopList":
        return cls(np.full((n, width), PADDING_COL, dtype=np.int64), np.full((n, width), -np.inf),
                   np.full((n, width), PADDING_REL, dtype=np.int8), np.zeros(n, dtype=np.int64))

    def rows(self, lo: int, hi: int) -> "TopList":
        """A view of rows lo:hi (inserting into it fills this list)."""
        return TopList(self.cols[lo:hi], self.vals[lo:hi], self.rels[lo:hi], self.sizes[lo:hi])

    def insert(self, scores: np.ndarray, offset: int, relevant: np.ndarray | None = None) -> None:
        """Add the (n, P) ``scores`` of columns ``offset`` ... ``offset + P - 1``; ``relevant``
        (n, R) global columns padded with -1, or None to rank without relevance (pool order)."""
        if self.cols.shape[1] == 0 or scores.shape[1] == 0:
            return
        if scores.dtype not in (np.float32, np.float64):
            scores = scores.astype(np.float64)
        if relevant is None:
            relevant = np.full((len(scores), 1), -1, dtype=np.int64)
        _insert_rows(scores, int(offset), np.ascontiguousarray(relevant, dtype=np.int64), self.cols, self.vals, self.rels, self.sizes)

    def merge(self, other: "TopList") -> "TopList":
        """The top lists of the union of two disjoint sets of columns (exact: a total order)."""
        width = self.cols.shape[1]
        cols = np.concatenate([self.cols, other.cols], axis=1)
        vals = np.concatenate([self.vals, other.vals], axis=1)
        rels = np.concatenate([self.rels, other.rels], axis=1)
        order = np.lexsort((cols, rels, -vals), axis=1)[:, :width]
        take = lambda a: np.take_along_axis(a, order, axis=1)  # noqa: E731
        return TopList(take(cols), take(vals), take(rels), np.minimum(width, self.sizes + other.sizes))


def rank_block(scores: np.ndarray, relevant: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ranks, top columns, top scores) of a whole pool held in memory: the sharded path's pieces
    applied to one shard (the reference the sharded scoring is tested against).

    ``scores``: (n, P) similarities of n queries to the P candidates of a pool.
    ``relevant``: (n, R) column indices into the pool, padded with -1.
    ``ranks``: (n, R) 1-based ranks, ascending per row, 0 where padded.
    top: (n, min(k, P)) columns and scores, best first, pessimistic among ties (k = 0: none).
    """
    n, pool = scores.shape
    relevant = np.ascontiguousarray(relevant, dtype=np.int64).reshape(n, -1)
    if relevant.shape[1] == 0:
        relevant = np.full((n, 1), -1, dtype=np.int64)
    present = relevant >= 0
    values = np.take_along_axis(scores, np.where(present, relevant, 0), axis=1).astype(np.float64)
    thresholds = thresholds_of(values, present)
    counts = np.zeros(thresholds.shape, dtype=np.int64)
    count_at_least(scores, thresholds, counts)
    top = TopList.empty(n, min(k, pool))
    top.insert(scores, 0, relevant)
    return ranks_from(counts, thresholds), top.cols, top.vals.astype(scores.dtype if scores.dtype in (np.float32, np.float64) else np.float64)
