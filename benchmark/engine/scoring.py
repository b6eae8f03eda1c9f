"""Scoring every setting of a task from one pass over the query x candidate scores.

Queries are taken one part at a time (a language of a parallel task, a side of a pivot task's
pair); each part is scored once against the span of candidate columns its settings' pools cover,
and every setting whose queries are in that part (its mono, its cross settings, its multilingual
pool) reads its rows and its pool's columns from the same block. So the 121 settings of XQuAD-R
cost one 13,090 x 13,014 product, and Tatoeba's 224 settings one product per pair side against
the other side only, each done in memory-bounded slices. Within a block the settings are ranked
on parallel threads (numpy releases the GIL), then ranx scores all of them in one call. The bias
measures of the multilingual pool read the same blocks; only the mean rank correlation, which
needs a question's rankings in all its languages at once, takes a second pass of its own
(:mod:`.correlation`).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from benchmark.metrics import metric_spec
from benchmark.metrics.accuracy import accuracy
from benchmark.metrics.bias import BIAS_MEASURES, ENGLISH, bias_block
from benchmark.metrics.average_precision import average_precision
from benchmark.metrics.cutoff import depth_of, qrels_rows, ranx_metrics, run_rows, stack_padded
from benchmark.metrics.ranking import rank_block
from benchmark.metrics.rank_distance import rank_distance
from benchmark.progress import bar
from .correlation import rank_correlations
from .search import DEFAULT_MEMORY_BUDGET, PoolScores, Scorer
from .settings import Setting, SettingPlan, TaskIndex

RANK_DISTANCE = metric_spec("rank_distance")  # computed on the kinds its spec names (the multilingual pool)
OWN_SHARE = metric_spec("own_share")  # so are the bias measures (own_share, english_share, own_first: one pass)


@dataclass
class SettingScores:
    """Per-query values of one setting, in the order of its query ids."""

    setting: Setting
    query_ids: list[str]
    ap: np.ndarray
    n_relevant: np.ndarray
    accuracy: np.ndarray
    rank_distance: np.ndarray | None = None
    cutoff: dict[str, np.ndarray] = field(default_factory=dict)
    bias: dict[str, np.ndarray] = field(default_factory=dict)  # the bias measures by name (multi only), NaN where undefined

    @property
    def map(self) -> float:
        return float(self.ap.mean()) if len(self.ap) else 0.0


@dataclass(frozen=True)
class Languages:
    """What the bias measures of one setting need to know of languages: each pool column's
    (positions in the task's languages), the query language's, and English's (None if absent)."""

    pool: np.ndarray
    query: int
    english: int | None

    @classmethod
    def of(cls, index: TaskIndex, plan: SettingPlan) -> "Languages | None":
        """For a setting the bias measures apply to; else None."""
        if not OWN_SHARE.applies_to(plan.setting.kind):
            return None
        english = index.languages.index(ENGLISH) if ENGLISH in index.languages else None
        return cls(index.candidate_langs[plan.pool], index.languages.index(plan.setting.query_lang), english)


def _rank_slice(view: PoolScores, start: int, stop: int, plan: SettingPlan, lo: int, hi: int, depth: int,
                langs: Languages | None = None) -> dict:
    """Everything one setting needs from one block: AP, accuracy, rank distance, the bias
    measures (``langs`` given), its ranx rows."""
    local = plan.query_rows[lo:hi] - start
    pool = view(plan.pool)
    scores = pool if len(local) == stop - start else pool[local]
    relevant = plan.relevant[lo:hi]
    relevant = np.where(relevant >= 0, relevant - plan.pool.start, -1)
    ranks, top_cols, top_scores = rank_block(scores, relevant, depth)
    part = {"ap": average_precision(ranks), "acc": accuracy(ranks), "n": (relevant >= 0).sum(axis=1), "qrels": qrels_rows(relevant)}
    if RANK_DISTANCE.applies_to(plan.setting.kind):
        part["rd"] = rank_distance(ranks)
    if langs is not None:
        part.update(bias_block(scores, relevant, langs.pool, langs.query, langs.english))
    if depth:
        part["run"] = run_rows(top_cols, top_scores)
    return part


def score_settings(
    index: TaskIndex,
    plans: list[SettingPlan],
    scorer: Scorer,
    cutoff_names: tuple[str, ...] = (),
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    quiet: bool = True,
    threads: int | None = None,
    timings: dict[str, float] | None = None,
) -> list[SettingScores]:
    """Score every plan; ``timings`` (if given) receives the seconds spent in "search" (score
    blocks), in "scoring" (ranks, AP, ranx, the bias measures of the top 10) and, for a task with
    a multilingual pool, in "rank_correlation" (its own pass, :mod:`.correlation`)."""
    depth = depth_of(cutoff_names)
    searching = 0.0
    began = time.perf_counter()
    parts: dict[int, list[dict]] = {i: [] for i in range(len(plans))}
    by_block: dict[tuple[int, int], list[int]] = {}
    for i, plan in enumerate(plans):
        by_block.setdefault(plan.block, []).append(i)
    workers = threads or min(8, os.cpu_count() or 1)
    langs = [Languages.of(index, plan) for plan in plans]
    with bar(sum(hi - lo for lo, hi in by_block), "scoring queries", quiet, unit="query") as progress, ThreadPoolExecutor(workers) as pool:
        for rows, members in by_block.items():
            span = slice(min(plans[i].pool.start for i in members), max(plans[i].pool.stop for i in members))
            blocks = scorer.blocks(rows, memory_budget, span)
            while True:
                tick = time.perf_counter()
                start, stop, block = next(blocks, (None, None, None))
                searching += time.perf_counter() - tick
                if block is None:
                    break
                jobs = []
                for i in members:
                    lo, hi = (int(x) for x in np.searchsorted(plans[i].query_rows, [start, stop]))
                    if hi > lo:
                        jobs.append((i, pool.submit(_rank_slice, block, start, stop, plans[i], lo, hi, depth, langs[i])))
                done = [(i, job.result()) for i, job in jobs]
                if cutoff_names and done:
                    values = ranx_metrics(stack_padded([p["qrels"] for _, p in done]), stack_padded([p["run"] for _, p in done]), cutoff_names)
                    row = 0
                    for _, p in done:
                        p.update({name: v[row : row + len(p["ap"])] for name, v in values.items()})
                        row += len(p["ap"])
                for i, p in done:
                    parts[i].append(p)
                progress.update(stop - start)
    if timings is not None:
        timings["search"] = timings.get("search", 0.0) + searching
        timings["scoring"] = timings.get("scoring", 0.0) + time.perf_counter() - began - searching
    correlations = rank_correlations(index, plans, scorer, memory_budget, workers, timings)
    scores = [_collect(index, plan, parts[i], cutoff_names) for i, plan in enumerate(plans)]
    for i, values in correlations.items():
        scores[i].bias["rank_correlation"] = values
    return scores


def _collect(index: TaskIndex, plan: SettingPlan, chunks: list[dict], cutoff_names: tuple[str, ...]) -> SettingScores:
    def join(key: str) -> np.ndarray:
        return np.concatenate([c[key] for c in chunks]) if chunks else np.zeros(0)

    return SettingScores(
        setting=plan.setting,
        query_ids=[index.query_ids[r] for r in plan.query_rows],
        ap=join("ap"),
        n_relevant=join("n").astype(np.int64),
        accuracy=join("acc"),
        rank_distance=join("rd") if RANK_DISTANCE.applies_to(plan.setting.kind) else None,
        cutoff={name: join(name) for name in cutoff_names},
        bias={name: join(name) for name in BIAS_MEASURES if name != "rank_correlation"} if OWN_SHARE.applies_to(plan.setting.kind) else {},
    )
