"""The unit of scoring work and its exact reduction: one query block against one shard of columns.

A :class:`BlockWork` is one query part (a language of a parallel task, a side of a pivot task's
pair) with the setting plans that read it, each plan's relevant candidates and their scores (the
*thresholds*, computed first from single pairs). :func:`scan` scores the block against one shard
and returns a :class:`Partial`: per plan, how many candidates of the shard reach each threshold,
and the shard's top lists (the cutoff metrics' top k; the bias measures' top 10). Partials of
different shards merge exactly (counts add, top lists merge under a total order), in any grouping
and order, so a local loop over shards and Ray tasks spread over machines give the same bits.
:func:`finish` turns a work's merged partial into per-query values.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from benchmark.metrics.accuracy import accuracy
from benchmark.metrics.average_precision import average_precision
from benchmark.metrics.bias import TOP, bias_values
from benchmark.metrics.cutoff import qrels_rows, run_rows
from benchmark.metrics.ranking import TopList, count_at_least, ranks_from, thresholds_of
from benchmark.metrics.rank_distance import rank_distance
from .search import Scorer, block_rows
from .settings import SettingPlan


@dataclass(frozen=True)
class PlanWork:
    """One setting's share of a block: its plan, its relevant candidates' scores as ranked,
    the depth of its cutoff top list and whether the bias measures apply."""

    plan: SettingPlan
    values: np.ndarray  # (n, R) the relevant candidates' scores (padding: 0)
    thresholds: np.ndarray  # (n, R) the same, best first, NaN padding
    depth: int  # width of the cutoff top list: min(deepest cutoff, pool size)
    bias_depth: int  # width of the bias top list (0: the bias measures do not apply)


@dataclass(frozen=True)
class BlockWork:
    """A query block (rows lo:hi of the task's queries) and the plans that read it."""

    rows: tuple[int, int]
    plans: tuple[PlanWork, ...]
    span: slice  # the candidate columns any of its pools covers

    @property
    def state_bytes(self) -> int:
        """What its partial holds: per query, a count per answer and two top lists (17 bytes a slot)."""
        return sum(p.plan.n_queries * (8 * p.thresholds.shape[1] + 17 * (p.depth + p.bias_depth)) for p in self.plans)

    def shards_of(self, shards: list[slice]) -> list[slice]:
        """The shards of ``shards`` that overlap this block's span."""
        return [s for s in shards if s.start < self.span.stop and s.stop > self.span.start]


@dataclass
class PlanPartial:
    counts: np.ndarray  # (n, R) candidates reaching each threshold
    top: TopList
    bias_top: TopList

    def merge(self, other: "PlanPartial") -> "PlanPartial":
        return PlanPartial(self.counts + other.counts, self.top.merge(other.top), self.bias_top.merge(other.bias_top))


@dataclass
class Partial:
    """What a block has seen of the candidates so far, per plan (in the block's order)."""

    plans: list[PlanPartial] = field(default_factory=list)

    @classmethod
    def empty(cls, work: BlockWork) -> "Partial":
        return cls([PlanPartial(np.zeros(p.thresholds.shape, dtype=np.int64), TopList.empty(p.plan.n_queries, p.depth),
                                TopList.empty(p.plan.n_queries, p.bias_depth)) for p in work.plans])

    def merge(self, other: "Partial") -> "Partial":
        return Partial([a.merge(b) for a, b in zip(self.plans, other.plans, strict=True)])


def make_work(scorer: Scorer, rows: tuple[int, int], plans: list[SettingPlan], depth: int, bias: list[bool]) -> BlockWork:
    """A block's work: each plan's relevant scores come first, from single (row, column) pairs."""
    works = []
    for plan, with_bias in zip(plans, bias):
        present = plan.relevant >= 0
        values = np.zeros(plan.relevant.shape)
        pair_rows = np.broadcast_to(plan.query_rows[:, None], present.shape)[present]
        values[present] = scorer.pair_scores(pair_rows, plan.relevant[present], plan.pool)
        pool_size = plan.pool.stop - plan.pool.start
        works.append(PlanWork(plan, values, thresholds_of(values, present), min(depth, pool_size),
                              min(TOP, pool_size) if with_bias else 0))
    span = slice(min(p.pool.start for p in plans), max(p.pool.stop for p in plans))
    return BlockWork(rows, tuple(works), span)


def scan(scorer: Scorer, work: BlockWork, shard: slice, memory_budget: int, into: Partial | None = None,
         executor: ThreadPoolExecutor | None = None) -> Partial:
    """Score ``work``'s block against ``shard`` and add what it saw to ``into`` (a fresh partial
    when None): rows are scored a budget's worth at a time, the plans of a row block on the
    executor's threads (the kernels release the GIL)."""
    partial = into if into is not None else Partial.empty(work)
    lo, hi = work.rows
    shard = slice(max(shard.start, work.span.start), min(shard.stop, work.span.stop))  # only the columns its pools read
    step = block_rows(max(1, shard.stop - shard.start), memory_budget // 2)
    for start in range(lo, hi, step):
        stop = min(hi, start + step)
        view = scorer.block(np.arange(start, stop), shard)
        jobs = [(plan_work, state, view, start, stop) for plan_work, state in zip(work.plans, partial.plans)]
        if executor is None:
            for job in jobs:
                _scan_plan(*job, shard)
        else:
            list(executor.map(lambda job: _scan_plan(*job, shard), jobs))
    return partial


def _scan_plan(work: PlanWork, state: PlanPartial, view, start: int, stop: int, shard: slice) -> None:
    plan = work.plan
    first, last = max(plan.pool.start, shard.start), min(plan.pool.stop, shard.stop)
    if last <= first:
        return
    lo, hi = (int(x) for x in np.searchsorted(plan.query_rows, [start, stop]))
    if hi <= lo:
        return
    local = plan.query_rows[lo:hi] - start
    scores = view(plan.pool)
    scores = scores if len(local) == stop - start else scores[local]
    count_at_least(scores, work.thresholds[lo:hi], state.counts[lo:hi])
    state.top.rows(lo, hi).insert(scores, first, plan.relevant[lo:hi])
    state.bias_top.rows(lo, hi).insert(scores, first)


def finish(work: PlanWork, state: PlanPartial, candidate_langs: np.ndarray | None, lang: int, english: int | None,
           with_rank_distance: bool) -> dict[str, np.ndarray]:
    """Per-query values of one plan from its merged partial: AP, accuracy, rank distance, the
    bias measures (``candidate_langs`` given), and its ranx rows (qrels, run) when it has a depth."""
    plan = work.plan
    ranks = ranks_from(state.counts, work.thresholds)
    out = {"ap": average_precision(ranks), "acc": accuracy(ranks), "n": (plan.relevant >= 0).sum(axis=1)}
    if with_rank_distance:
        out["rd"] = rank_distance(ranks)
    if candidate_langs is not None:
        present = plan.relevant >= 0
        own = candidate_langs[np.where(present, plan.relevant, 0)] == lang
        pool_langs = candidate_langs[plan.pool]
        top = state.bias_top.cols - plan.pool.start
        out.update(bias_values(top, work.values, present, own, pool_langs, lang, english))
    if work.depth:
        out["qrels"] = qrels_rows(plan.relevant)
        out["run"] = run_rows(state.top.cols, state.top.vals)
    return out
