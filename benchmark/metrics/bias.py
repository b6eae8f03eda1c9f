"""Language bias beyond rank distance (PROTOCOL.md, "Language bias beyond rank distance"): what a
query's ranking of the multilingual pool prefers, per query.

- ``own_share``: the share of the query's 10 best-scored candidates written in its own language;
- ``english_share``: the same share for English (NaN when the pool holds no English candidate);
- ``own_first``: 1 when the best score among the query's own-language relevant candidates is
  strictly greater than the best among its other relevant candidates, else 0; NaN when it lacks
  either (the protocol defines it only for a query with both).

The top 10 here is not the top of the cutoff metrics, which puts a non-relevant candidate ahead of
a relevant one it ties with: the protocol breaks a tie at the 10th place by pool order (the task's
language order, then file order), which is the column order. So it is a top list of
:mod:`.ranking` kept without relevance, by (score descending, column ascending); a share says
nothing about relevance, so it must not depend on it. A score that is not finite counts as -inf, the worst, as in
:mod:`.ranking`, and those tie with each other by column too.

Mean rank correlation, the fourth measure, needs the full rankings of a question in every language
that holds it: :mod:`.rank_correlation`.
"""

from __future__ import annotations

import numpy as np

from .ranking import TopList

BIAS_MEASURES = ("own_share", "english_share", "own_first", "rank_correlation")  # metric names, in column order
TOP = 10  # the share's cutoff: share@10
ENGLISH = "en"


def top_columns(scores: np.ndarray, k: int = TOP) -> np.ndarray:
    """(n, min(k, P)) pool columns of each row's k best candidates, ties by column (pool order):
    the top list of :mod:`.ranking` without relevance, which merges across shards of a pool."""
    top = TopList.empty(len(scores), min(k, scores.shape[1]))
    top.insert(scores, 0)
    return top.cols


def language_shares(top: np.ndarray, pool_langs: np.ndarray, lang: int) -> np.ndarray:
    """Per row, the share of its ``top`` columns whose language (``pool_langs``, a language
    position per pool column) is ``lang``; NaN for every row when no pool column has it."""
    if not (pool_langs == lang).any() or top.shape[1] == 0:
        return np.full(len(top), np.nan)
    return (pool_langs[top] == lang).sum(axis=1) / top.shape[1]


def own_first(values: np.ndarray, present: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Per row: 1.0 when the best own-language relevant score beats every other relevant score
    strictly, 0.0 when not (an equal best included), NaN without an own-language relevant
    candidate or without another language's. ``values``: (n, R) the relevant candidates' scores,
    ``present``: which of them exist (the rest is padding), ``own``: which are in the query's
    language."""
    values = np.where(np.isfinite(values), values, -np.inf).astype(np.float64)
    own = present & own
    other = present & ~own
    best_own = np.where(own, values, -np.inf).max(axis=1, initial=-np.inf)
    best_other = np.where(other, values, -np.inf).max(axis=1, initial=-np.inf)
    return np.where(own.any(axis=1) & other.any(axis=1), (best_own > best_other).astype(np.float64), np.nan)


def bias_block(scores: np.ndarray, relevant: np.ndarray, pool_langs: np.ndarray, lang: int, english: int | None) -> dict[str, np.ndarray]:
    """own_share, english_share and own_first of a block of queries in language position ``lang``
    against a whole pool held in memory, whose columns have the languages ``pool_langs``;
    ``english``: English's position, None when the task has no English (its share is then NaN).
    (The sharded scoring assembles the same values from its top lists, :mod:`benchmark.engine.partials`.)"""
    present = relevant >= 0
    columns = np.where(present, relevant, 0)
    values = np.take_along_axis(scores, columns, axis=1)
    return bias_values(top_columns(scores), values, present, pool_langs[columns] == lang, pool_langs, lang, english)


def bias_values(top: np.ndarray, values: np.ndarray, present: np.ndarray, own: np.ndarray, pool_langs: np.ndarray,
                lang: int, english: int | None) -> dict[str, np.ndarray]:
    """The three measures from a pool's top 10 columns (indices into ``pool_langs``) and its
    relevant candidates' scores."""
    no_english = np.full(len(top), np.nan)
    return {
        "own_share": language_shares(top, pool_langs, lang),
        "english_share": no_english if english is None else language_shares(top, pool_langs, english),
        "own_first": own_first(values, present, own),
    }
