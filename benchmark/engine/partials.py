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

from benchmark.metrics import metric_spec
from benchmark.metrics.accuracy import accuracy
from benchmark.metrics.average_precision import average_precision
from benchmark.metrics.bias import ENGLISH, TOP, bias_values
from benchmark.metrics.cutoff import qrels_rows, run_rows
from benchmark.metrics.ranking import TopList, count_at_least, ranks_from, thresholds_of
from benchmark.metrics.rank_distance import rank_distance
from .search import Scorer, block_rows
from .settings import SettingPlan, TaskIndex

RANK_DISTANCE = metric_spec("rank_distance")  # computed on the kinds its spec names (the multilingual pool)
OWN_SHARE = metric_spec("own_share")  # so are the bias measures (own_share, english_share, own_first: one pass)


@dataclass(frozen=True)
class Languages:
    """What the bias measures of one setting need to know of languages: the query language's
    position in the task's languages, and English's (None if absent)."""

    query: int
    english: int | None

    @classmethod
    def of(cls, index: TaskIndex, plan: SettingPlan) -> "Languages | None":
        """For a setting the bias measures apply to; else None."""
        if not OWN_SHARE.applies_to(plan.setting.kind):
            return None
        english = index.languages.index(ENGLISH) if ENGLISH in index.languages else None
        return cls(index.languages.index(plan.setting.query_lang), english)


@dataclass(frozen=True)
class PlanWork:
    """One setting's share of a block: its plan, its relevant candidates' scores as ranked,
    the depth of its cutoff top list and, where the bias measures apply, its languages."""

    plan: SettingPlan
    values: np.ndarray  # (n, R) the relevant candidates' scores (padding: 0)
    thresholds: np.ndarray  # (n, R) the same, best first, NaN padding
    depth: int  # width of the cutoff top list: min(deepest cutoff, pool size)
    languages: Languages | None  # None: the bias measures do not apply

    @property
    def bias_depth(self) -> int:
        """Width of the bias top list (0 where the bias measures do not apply)."""
        return min(TOP, self.plan.pool.stop - self.plan.pool.start) if self.languages is not None else 0


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

    def overlaps(self, shard: slice) -> bool:
        """Whether ``shard`` holds a column of any of its pools."""
        return shard.start < self.span.stop and shard.stop > self.span.start

    def shards_of(self, shards: list[slice]) -> list[slice]:
        """The shards of ``shards`` that overlap this block's span."""
        return [s for s in shards if self.overlaps(s)]


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


def shards_first(works: list[BlockWork], memory_budget: int) -> bool:
    """Whether every block's partial fits in a quarter of the budget, so an engine may take the
    shards as its outer loop and read each shard once for all blocks (a large corpus, a few
    thousand queries); else blocks come first and only the blocks in progress are held."""
    return sum(work.state_bytes for work in works) <= memory_budget // 4


def make_work(scorer: Scorer, index: TaskIndex, rows: tuple[int, int], plans: list[SettingPlan], depth: int) -> BlockWork:
    """A block's work: each plan's relevant scores come first, from single (row, column) pairs."""
    works = []
    for plan in plans:
        present = plan.relevant >= 0
        values = np.zeros(plan.relevant.shape)
        pair_rows = np.broadcast_to(plan.query_rows[:, None], present.shape)[present]
        values[present] = scorer.pair_scores(pair_rows, plan.relevant[present], plan.pool)
        works.append(PlanWork(plan, values, thresholds_of(values, present), min(depth, plan.pool.stop - plan.pool.start),
                              Languages.of(index, plan)))
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


def finish(work: PlanWork, state: PlanPartial, candidate_langs: np.ndarray) -> dict[str, np.ndarray]:
    """Per-query values of one plan from its merged partial: AP, accuracy, rank distance and the
    bias measures where they apply (``candidate_langs``: each candidate column's language
    position), and its ranx rows (qrels, run) when it has a depth."""
    plan, langs = work.plan, work.languages
    ranks = ranks_from(state.counts, work.thresholds)
    out = {"ap": average_precision(ranks), "acc": accuracy(ranks), "n": (plan.relevant >= 0).sum(axis=1)}
    if RANK_DISTANCE.applies_to(plan.setting.kind):
        out["rd"] = rank_distance(ranks)
    if langs is not None:
        present = plan.relevant >= 0
        own = candidate_langs[np.where(present, plan.relevant, 0)] == langs.query
        pool_langs = candidate_langs[plan.pool]
        top = state.bias_top.cols - plan.pool.start
        out.update(bias_values(top, work.values, present, own, pool_langs, langs.query, langs.english))
    if work.depth:
        out["qrels"] = qrels_rows(plan.relevant)
        out["run"] = run_rows(state.top.cols, state.top.vals)
    return out
