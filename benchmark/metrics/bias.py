"""Language bias beyond rank distance (PROTOCOL.md, "Language bias beyond rank distance"): what a
query's ranking of the multilingual pool prefers, per query.

- ``own_share``: the share of the query's 10 best-scored candidates written in its own language;
- ``english_share``: the same share for English (NaN when the pool holds no English candidate);
- ``own_first``: 1 when the best score among the query's own-language relevant candidates is
  strictly greater than the best among its other relevant candidates, else 0; NaN when it lacks
  either (the protocol defines it only for a query with both).

The top 10 here is not the top of the ranking kernel (:mod:`.ranking`), which puts a non-relevant
candidate ahead of a relevant one it ties with: the protocol breaks a tie at the 10th place by pool
order (the task's language order, then file order), which is the column order. So a small compiled
selection keeps the 10 best by (score descending, column ascending); a share says nothing about
relevance, so it must not depend on it. A score that is not finite counts as -inf, the worst, as in
:mod:`.ranking`, and those tie with each other by column too.

Mean rank correlation, the fourth measure, needs the full rankings of a question in every language
that holds it: :mod:`.rank_correlation`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

BIAS_MEASURES = ("own_share", "english_share", "own_first", "rank_correlation")  # metric names, in column order
TOP = 10  # the share's cutoff: share@10
ENGLISH = "en"


@njit(cache=True, nogil=True)
def _top_columns(scores, k, out):  # pragma: no cover - compiled
    """The ``k`` best columns of each row by (score descending, column ascending), best first.
    Columns arrive in ascending order, so a candidate enters the kept list only when strictly
    better than its worst (an equal score with a later column loses), and is placed after every
    kept one scoring at least as much."""
    n, pool = scores.shape
    kept_scores = np.empty(k, dtype=np.float64)
    for i in range(n):
        size = 0
        for p in range(pool):
            v = scores[i, p]
            v = v if math.isfinite(v) else -np.inf
            if size == k and not v > kept_scores[k - 1]:
                continue
            pos = size if size < k else k - 1
            while pos > 0 and kept_scores[pos - 1] < v:
                kept_scores[pos] = kept_scores[pos - 1]
                out[i, pos] = out[i, pos - 1]
                pos -= 1
            kept_scores[pos] = v
            out[i, pos] = p
            if size < k:
                size += 1


def top_columns(scores: np.ndarray, k: int = TOP) -> np.ndarray:
    """(n, min(k, P)) pool columns of each row's k best candidates, ties by column (pool order)."""
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    depth = min(k, scores.shape[1])
    out = np.zeros((scores.shape[0], depth), dtype=np.int64)
    if depth:
        _top_columns(scores, depth, out)
    return out


def language_shares(top: np.ndarray, pool_langs: np.ndarray, lang: int) -> np.ndarray:
    """Per row, the share of its ``top`` columns whose language (``pool_langs``, a language
    position per pool column) is ``lang``; NaN for every row when no pool column has it."""
    if not (pool_langs == lang).any() or top.shape[1] == 0:
        return np.full(len(top), np.nan)
    return (pool_langs[top] == lang).sum(axis=1) / top.shape[1]


def own_first(scores: np.ndarray, relevant: np.ndarray, pool_langs: np.ndarray, lang: int) -> np.ndarray:
    """Per row: 1.0 when the best own-language relevant score beats every other relevant score
    strictly, 0.0 when not (an equal best included), NaN without an own-language relevant
    candidate or without another language's. ``relevant``: (n, R) pool columns padded with -1."""
    present = relevant >= 0
    columns = np.where(present, relevant, 0)
    values = np.take_along_axis(scores, columns, axis=1).astype(np.float64)
    values = np.where(np.isfinite(values), values, -np.inf)
    own = present & (pool_langs[columns] == lang)
    other = present & ~own
    best_own = np.where(own, values, -np.inf).max(axis=1, initial=-np.inf)
    best_other = np.where(other, values, -np.inf).max(axis=1, initial=-np.inf)
    return np.where(own.any(axis=1) & other.any(axis=1), (best_own > best_other).astype(np.float64), np.nan)


def bias_block(scores: np.ndarray, relevant: np.ndarray, pool_langs: np.ndarray, lang: int, english: int | None) -> dict[str, np.ndarray]:
    """own_share, english_share and own_first of a block of queries in language position ``lang``
    against a pool whose columns have the languages ``pool_langs``; ``english``: English's
    position, None when the task has no English (its share is then NaN)."""
    top = top_columns(scores)
    no_english = np.full(len(scores), np.nan)
    return {
        "own_share": language_shares(top, pool_langs, lang),
        "english_share": no_english if english is None else language_shares(top, pool_langs, english),
        "own_first": own_first(scores, relevant, pool_langs, lang),
    }
