"""Mean rank correlation over the multilingual pool, within the memory budget.

The measure (:mod:`benchmark.metrics.rank_correlation`) compares the full pool rankings of one
question in every language that holds it, so the rows of a question must be ranked together,
while the main pass (:mod:`.scoring`) scores one query language at a time and keeps no ranking.
So the queries of the multilingual settings are grouped by question id, and chunks of whole
questions are scored again (``Scorer.scores``: the same bits as the main pass) and ranked, each
chunk as many rows as the budget allows for its scores and their ranks (16 bytes per pool cell),
one question at least. A question held by one language has nothing to correlate with (NaN) and is
not scored at all. Its sums are exact only for pools of up to MAX_POOL candidates (208,063; MLQA-R
has 20,534): a larger pool gets no rank correlation (NaN, a warning), never an inexact one. The result does not depend on the budget: each row's ranks are a function of
its scores alone, and each question's correlations of its own rows.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from benchmark.metrics import metric_spec
from benchmark.metrics.rank_correlation import centred_doubled_ranks, mean_over_others, spearman_matrix
from .search import Scorer
from .settings import SettingPlan, TaskIndex

RANK_CORRELATION = metric_spec("rank_correlation")
MAX_POOL = 208_063  # the largest P with P^3 < 2^53: beyond it the exact sums of rank_correlation.py overflow float64
log = logging.getLogger("xbench.correlation")
CELL_BYTES = 16  # a float64 score and a float64 centred rank per (row, pool column)
RANK_ROWS = 64  # rows ranked per task: their sort order (8 bytes a cell) is the scratch beyond the budget


def question_groups(index: TaskIndex, plans: list[SettingPlan]) -> list[np.ndarray]:
    """The query rows of each question id held by two or more of the plans' languages, in row
    order (one row per language: a part holds a question once)."""
    rows: dict[str, list[int]] = {}
    for plan in plans:
        for row in plan.query_rows:
            rows.setdefault(index.query_ids[row], []).append(int(row))
    return [np.asarray(sorted(group), dtype=np.int64) for group in rows.values() if len(group) > 1]


def chunks(groups: list[np.ndarray], pool_size: int, memory_budget: int) -> list[list[np.ndarray]]:
    """Consecutive groups, as many per chunk as keep its rows x pool within the budget (one at least)."""
    limit = max(1, memory_budget // max(1, pool_size * CELL_BYTES))
    out: list[list[np.ndarray]] = []
    size = limit
    for group in groups:
        if size + len(group) > limit:
            out.append([])
            size = 0
        out[-1].append(group)
        size += len(group)
    return out


def rank_correlations(index: TaskIndex, plans: list[SettingPlan], scorer: Scorer, memory_budget: int, shards: list[slice],
                      workers: int, timings: dict[str, float] | None = None) -> dict[int, np.ndarray]:
    """Per plan whose kind the measure applies to (by position in ``plans``), the mean rank
    correlation of each of its queries (NaN for a question no other language holds, and for every
    query when the pool is beyond MAX_POOL); ``timings["rank_correlation"]`` receives the seconds
    spent. The scores are read shard by shard (``shards``), like the main pass."""
    began = time.perf_counter()
    chosen = {i: plan for i, plan in enumerate(plans) if RANK_CORRELATION.applies_to(plan.setting.kind)}
    if not chosen:
        return {}
    pool = next(iter(chosen.values())).pool  # the pool of all languages, every multilingual setting's
    values = np.full(len(index.query_ids), np.nan)
    if pool.stop - pool.start > MAX_POOL:
        log.warning("rank_correlation: a pool of %d candidates is beyond %d, where its sums stop being exact; "
                    "not computed", pool.stop - pool.start, MAX_POOL)
        return {i: values[plan.query_rows] for i, plan in chosen.items()}
    with ThreadPoolExecutor(workers) as executor:
        for chunk in chunks(question_groups(index, list(chosen.values())), pool.stop - pool.start, memory_budget):
            rows = np.concatenate(chunk)
            ranks = _ranks(pool_scores(scorer, rows, pool, shards), executor)
            start = 0
            for group in chunk:
                values[group] = mean_over_others(spearman_matrix(ranks[start : start + len(group)]))
                start += len(group)
            del ranks  # before the next chunk's scores: one chunk in memory at a time
    if timings is not None:
        timings["rank_correlation"] = timings.get("rank_correlation", 0.0) + time.perf_counter() - began
    return {i: values[plan.query_rows] for i, plan in chosen.items()}


def pool_scores(scorer: Scorer, rows: np.ndarray, pool: slice, shards: list[slice]) -> np.ndarray:
    """The (len(rows), |pool|) scores of any selection of query rows, shard by shard."""
    out = np.empty((len(rows), pool.stop - pool.start))
    for shard in shards:
        if shard.start < pool.stop and shard.stop > pool.start:
            view = scorer.block(rows, shard)(pool)
            first = max(shard.start, pool.start) - pool.start
            out[:, first : first + view.shape[1]] = view
    return out


def _ranks(scores: np.ndarray, executor: ThreadPoolExecutor) -> np.ndarray:
    """Centred doubled ranks of every row, RANK_ROWS rows at a time on parallel threads (numpy's
    sort and the compiled pass release the GIL; each slice's sort order is its only scratch)."""
    out = np.empty(scores.shape, dtype=np.float64)
    starts = range(0, len(scores), RANK_ROWS)
    list(executor.map(lambda a: centred_doubled_ranks(scores[a : a + RANK_ROWS], out[a : a + RANK_ROWS]), starts))
    return out
