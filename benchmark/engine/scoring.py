"""Scoring every setting of a task from one pass of each query block over the candidate shards.

Queries are taken one part at a time (a language of a parallel task, a side of a pivot task's
pair): a :class:`~.partials.BlockWork`. Each block is scanned once against the shards of the
candidate columns its settings' pools cover, and every setting whose queries are in that part
(its mono, its cross settings, its multilingual pool) reads its rows and its pool's columns from
the same score block. So the 121 settings of XQuAD-R cost one 13,090 x 13,014 product, and a pool
of millions of passages is read shard by shard, never held whole: the ranks are counts summed over
shards and the top lists merge exactly, so nothing depends on the shard size, the memory budget or
the engine (:mod:`.local_engine` here, :mod:`.ray_engine` on a cluster). ranx then scores each
block's cutoff metrics in one call. The mean rank correlation, which needs a question's full
rankings in all its languages at once, takes a second pass of its own (:mod:`.correlation`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol

import numpy as np

from benchmark.metrics.bias import BIAS_MEASURES
from benchmark.metrics.cutoff import depth_of, ranx_metrics, stack_padded
from benchmark.progress import bar
from .correlation import rank_correlations
from .embed import EncodeBatches
from .local_engine import LocalEngine, default_threads
from .partials import OWN_SHARE, RANK_DISTANCE, BlockWork, Partial, finish, make_work
from .search import DEFAULT_MEMORY_BUDGET, Scorer
from .shards import column_shards, default_shard_size
from .settings import Setting, SettingPlan, TaskIndex

class Engine(Protocol):
    """Where the scans of a run happen: :class:`~.local_engine.LocalEngine` (this process) or
    :class:`~.ray_engine.RayEngine` (a Ray cluster). Both yield each block's merged partial."""

    name: str

    def run(self, scorer: Scorer, works: list[BlockWork], shards: list[slice], memory_budget: int,
            progress: Callable[[int], None]) -> Iterator[tuple[int, Partial]]: ...

    def usage(self) -> dict: ...

    def encode_hook(self, retriever: Any) -> Callable[[str], EncodeBatches] | None: ...


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


def score_settings(
    index: TaskIndex,
    plans: list[SettingPlan],
    scorer: Scorer,
    cutoff_names: tuple[str, ...] = (),
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    quiet: bool = True,
    threads: int | None = None,
    timings: dict[str, float] | None = None,
    engine: Engine | None = None,
    shard_size: int | None = None,
) -> list[SettingScores]:
    """Score every plan; ``timings`` (if given) receives the seconds spent in "search" (the scans:
    score blocks, counts and top lists), in "scoring" (relevant scores, ranks, AP, ranx, the bias
    measures) and, for a task with a multilingual pool, in "rank_correlation" (:mod:`.correlation`).
    ``shard_size``: candidate columns per shard (default: what half the memory budget holds)."""
    began = time.perf_counter()
    threads = threads or default_threads()
    engine = engine or LocalEngine(threads)
    depth = depth_of(cutoff_names)
    by_block: dict[tuple[int, int], list[int]] = {}
    for i, plan in enumerate(plans):
        by_block.setdefault(plan.block, []).append(i)
    members = list(by_block.values())
    works = [make_work(scorer, index, rows, [plans[i] for i in group], depth) for rows, group in by_block.items()]
    size = shard_size or default_shard_size(memory_budget, scorer.column_bytes, scorer.n_candidates)
    shards = column_shards(slice(0, scorer.n_candidates), size)
    parts: dict[int, dict] = {}
    searching = 0.0
    with bar(sum(len(w.shards_of(shards)) for w in works), "scoring queries", quiet, unit="shard") as progress:
        results = engine.run(scorer, works, shards, memory_budget, progress.update)
        while True:
            tick = time.perf_counter()
            done = next(results, None)
            searching += time.perf_counter() - tick
            if done is None:
                break
            w, partial = done
            finished = {i: finish(pw, state, index.candidate_langs) for i, pw, state in zip(members[w], works[w].plans, partial.plans)}
            _add_cutoffs(finished, cutoff_names)
            parts.update(finished)
    if timings is not None:
        timings["search"] = timings.get("search", 0.0) + searching
        timings["scoring"] = timings.get("scoring", 0.0) + time.perf_counter() - began - searching
    correlations = rank_correlations(index, plans, scorer, memory_budget, shards, threads, timings)
    scores = [_collect(index, plan, parts[i], cutoff_names) for i, plan in enumerate(plans)]
    for i, values in correlations.items():
        scores[i].bias["rank_correlation"] = values
    return scores


def _add_cutoffs(finished: dict[int, dict], cutoff_names: tuple[str, ...]) -> None:
    """ranx's cutoff metrics for every plan of a block in one call; the run and qrels rows are
    dropped once scored."""
    ranked = [p for p in finished.values() if "run" in p and len(p["ap"])]
    if cutoff_names and ranked:
        values = ranx_metrics(stack_padded([p["qrels"] for p in ranked]), stack_padded([p["run"] for p in ranked]), cutoff_names)
        row = 0
        for p in ranked:
            p.update({name: v[row : row + len(p["ap"])] for name, v in values.items()})
            row += len(p["ap"])
    for p in finished.values():
        p.pop("run", None)
        p.pop("qrels", None)
        for name in cutoff_names:
            p.setdefault(name, np.zeros(len(p["ap"])))


def _collect(index: TaskIndex, plan: SettingPlan, part: dict, cutoff_names: tuple[str, ...]) -> SettingScores:
    return SettingScores(
        setting=plan.setting,
        query_ids=[index.query_ids[r] for r in plan.query_rows],
        ap=part["ap"],
        n_relevant=part["n"].astype(np.int64),
        accuracy=part["acc"],
        rank_distance=part["rd"] if RANK_DISTANCE.applies_to(plan.setting.kind) else None,
        cutoff={name: part[name] for name in cutoff_names},
        bias={name: part[name] for name in BIAS_MEASURES if name != "rank_correlation"} if OWN_SHARE.applies_to(plan.setting.kind) else {},
    )
