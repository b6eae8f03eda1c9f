"""One evaluation, end to end: task definition -> data -> embeddings -> scores -> result.

This is the library entry point behind ``xbench run``; tests and other tools call
:func:`evaluate_task` directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .cache import EmbeddingCache
from benchmark.encoders import EncoderOptions
from benchmark.results import TaskResult
from benchmark.results.build import build_result
from benchmark.retrievers import Retriever, Workspace
from .scoring import score_settings
from .search import DEFAULT_MEMORY_BUDGET
from .task import load_task
from .taskdef import TaskDefinition


@dataclass(frozen=True)
class RunConfig:
    langs: tuple[str, ...] | None = None
    data_dir: Path | None = None
    cache_dir: Path | None = None
    candidate_text: str | None = None
    allow_modified_data: bool = False
    memory_budget: int = DEFAULT_MEMORY_BUDGET
    quiet: bool = True
    sample: int | None = None  # evaluate only this many question ids (all their translations)
    seed: int = 0
    metrics: tuple[str, ...] = ()  # metrics asked for beyond the definition's (--metrics)


def evaluate_task(
    definition: TaskDefinition, retriever: Retriever, options: EncoderOptions, config: RunConfig = RunConfig()
) -> TaskResult:
    """Evaluate ``retriever`` (:func:`benchmark.retrievers.load_model`) on every setting of
    ``definition``; the result is in memory, not yet written. ``options`` are recorded with the model."""
    clock = time.perf_counter
    t0 = clock()
    task = load_task(definition, config.data_dir, langs=config.langs, candidate_text=config.candidate_text,
                     allow_modified=config.allow_modified_data, sample=config.sample, seed=config.seed)
    index = task.index
    t1 = clock()

    work = Workspace(EmbeddingCache(config.cache_dir), config.quiet)
    scorer = retriever.index(index, work)
    t2 = clock()

    timings = {"load_data": t1 - t0, "encode": t2 - t1}
    metrics = tuple(dict.fromkeys([*definition.metrics, *config.metrics]))
    cutoffs = tuple(m for m in metrics if "@" in m)
    scores = score_settings(index, task.plans, scorer, cutoffs, config.memory_budget, config.quiet, timings=timings)
    timings["total"] = clock() - t0

    model = {
        **retriever.identity().to_dict(),
        "dimension": scorer.dimension,
        "query_prompt": options.query_prompt,
        "passage_prompt": options.passage_prompt,
        "normalized": bool(scorer.cosine),
    }
    encoding = {
        "unique_query_texts": work.queries.unique,
        "unique_candidate_texts": work.passages.unique,
        "encoded": work.queries.encoded + work.passages.encoded,
        "cache_hits": work.cache.stats.hits,
        "corrupt_cache_shards": work.cache.stats.corrupt_shards,
        **retriever.usage(),
    }
    return build_result(
        definition=definition,
        languages=task.languages,
        model=model,
        data=task.files,
        candidate_text=task.candidate_text,
        scores=scores,
        timings=timings,
        encoding=encoding,
        roles={"queries": {"role": "query", "prompt": options.prompt("query")},
               "candidates": {"role": index.candidate_role, "prompt": options.prompt(index.candidate_role)}},
        metrics=metrics,
        requested_metrics=config.metrics,
        sample={"queries": config.sample, "seed": config.seed} if config.sample else None,
        counts={
            "queries": {name: len(part.query_ids) for name, part in task.data.parts.items()},
            "candidates": dict(index.candidate_counts),
            "skipped_queries": {name: part.skipped_queries for name, part in task.data.parts.items()},
        },
    )
