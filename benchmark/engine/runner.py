"""One evaluation, end to end: task definition -> data -> embeddings -> scores -> result.

This is the library entry point behind ``xbench run``; tests and other tools call
:func:`evaluate_task` directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .cache import EmbeddingCache
from .embed import EmbedStats, embed_texts
from benchmark.encoders import Encoder, EncoderOptions
from benchmark.errors import UsageError
from benchmark.results import TaskResult
from benchmark.results.build import build_result
from .scoring import score_settings
from .search import DEFAULT_MEMORY_BUDGET, DenseScorer
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


def evaluate_task(
    definition: TaskDefinition, encoder: Encoder, options: EncoderOptions, config: RunConfig = RunConfig()
) -> TaskResult:
    """Evaluate ``encoder`` on every setting of ``definition``; the result is in memory, not yet written."""
    clock = time.perf_counter
    t0 = clock()
    task = load_task(definition, config.data_dir, langs=config.langs, candidate_text=config.candidate_text,
                     allow_modified=config.allow_modified_data, sample=config.sample, seed=config.seed)
    index = task.index
    t1 = clock()

    cache = EmbeddingCache(config.cache_dir)
    q_stats, c_stats = EmbedStats(), EmbedStats()
    if callable(getattr(encoder, "scorer", None)):  # lexical models score pools themselves
        scorer, normalize = encoder.scorer(index), False
        dimension = getattr(scorer, "dimension", None)
    else:
        normalize = options.normalize if options.normalize is not None else encoder.similarity == "cosine"
        queries = embed_texts(encoder, index.query_texts, "query", options, cache, config.quiet, stats=q_stats)
        candidates = embed_texts(encoder, index.candidate_texts, "passage", options, cache, config.quiet, stats=c_stats)
        if queries.shape[1] != candidates.shape[1]:
            raise UsageError(f"model {encoder.name}: query vectors have dimension {queries.shape[1]}, passages {candidates.shape[1]}")
        scorer, dimension = DenseScorer(queries, candidates, encoder.name, cosine=normalize), int(queries.shape[1])
    t2 = clock()

    timings = {"load_data": t1 - t0, "encode": t2 - t1}
    scores = score_settings(index, task.plans, scorer, definition.cutoff_metrics, config.memory_budget, config.quiet, timings=timings)
    timings["total"] = clock() - t0

    model = dict(encoder.identity())
    model.update(
        dimension=model.get("dimension", dimension),
        query_prompt=options.query_prompt,
        passage_prompt=options.passage_prompt,
        normalized=bool(normalize),
    )
    encoding = {
        "unique_query_texts": q_stats.unique,
        "unique_candidate_texts": c_stats.unique,
        "encoded": q_stats.encoded + c_stats.encoded,
        "cache_hits": cache.stats.hits,
        "corrupt_cache_shards": cache.stats.corrupt_shards,
        **(encoder.usage() if callable(getattr(encoder, "usage", None)) else {}),
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
        sample={"queries": config.sample, "seed": config.seed} if config.sample else None,
        counts={
            "queries": {lang: len(task.data[lang].query_ids) for lang in task.languages},
            "candidates": dict(index.candidate_counts),
            "skipped_queries": {lang: task.data[lang].skipped_queries for lang in task.languages},
        },
    )
