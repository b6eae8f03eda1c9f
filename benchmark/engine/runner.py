"""One evaluation, end to end: task definition -> data -> embeddings -> scores -> result.

This is the library entry point behind ``xbench run``; tests and other tools call
:func:`evaluate_task` (the clean run) or :func:`evaluate_variants` (the clean run, then one per
query perturbation) directly. Variants share the loaded data; each re-embeds only its queries, so
a perturbed run encodes its perturbed queries and reads every candidate from the embedding cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from .cache import EmbeddingCache
from benchmark.encoders import EncoderOptions
from benchmark.results import TaskResult
from benchmark.results.build import build_result
from benchmark.retrievers import Retriever, Workspace
from .scoring import score_settings
from benchmark.perturb import PerturbationSpec
from .corpus import TaskData
from .search import DEFAULT_MEMORY_BUDGET
from .settings import build_index, plan_settings
from .task import LoadedTask, load_task, sample_queries
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
    perturbations: tuple[PerturbationSpec, ...] = ()  # query perturbations run after the clean run (--perturb)
    engine: Any = None  # where scans (and, for Ray, encoding) run: None is the local engine (--engine)
    shard_size: int | None = None  # candidate columns per shard (--shard-size); None: from the memory budget


def evaluate_task(
    definition: TaskDefinition, retriever: Retriever, options: EncoderOptions, config: RunConfig = RunConfig()
) -> TaskResult:
    """Evaluate ``retriever`` (:func:`benchmark.retrievers.load_model`) on every setting of
    ``definition``; the result is in memory, not yet written. ``options`` are recorded with the model."""
    return evaluate_variants(definition, retriever, options, replace(config, perturbations=()))[0]


def evaluate_variants(
    definition: TaskDefinition, retriever: Retriever, options: EncoderOptions, config: RunConfig = RunConfig(),
    on_result: Callable[[TaskResult], None] | None = None,
) -> list[TaskResult]:
    """The clean result, then one per perturbation of ``config.perturbations``, from one load of
    the data. ``on_result`` receives each as soon as it is made (the run writes it at once, so an
    interrupted suite keeps the variants already done)."""
    t0 = time.perf_counter()
    full = load_task(definition, config.data_dir, langs=config.langs, candidate_text=config.candidate_text,
                     allow_modified=config.allow_modified_data)
    load_seconds = time.perf_counter() - t0
    clean = sampled(full, full.data, config)
    results = []
    for spec in (None, *config.perturbations):
        task, perturbation = (clean, None) if spec is None else perturbed_task(full, clean, spec, config)
        result = _evaluate(task, retriever, options, config, perturbation, load_seconds if spec is None else 0.0)
        if on_result is not None:
            on_result(result)
        results.append(result)
    return results


def sampled(full: LoadedTask, data: TaskData, config: RunConfig) -> LoadedTask:
    """``full`` with ``data``'s texts, keeping ``config.sample`` question ids when asked (the same
    ids for every variant: the draw depends on the ids and the seed only)."""
    if not config.sample and data is full.data:
        return full
    data = TaskData(data.languages, {name: replace(part) for name, part in data.parts.items()})
    if config.sample:
        sample_queries(data, config.sample, config.seed)
    index = build_index(data, candidate_role=full.index.candidate_role)
    return replace(full, data=data, index=index, plans=plan_settings(data, index, full.definition.settings, full.definition.pivot))


def perturbed_task(full: LoadedTask, clean: LoadedTask, spec: PerturbationSpec, config: RunConfig) -> tuple[LoadedTask, dict[str, Any]]:
    """The task with every part's queries perturbed by ``spec`` (ids, candidates and answers
    shared, so the settings are the same ones), and the result's record of what was done: the
    perturbation's identity and, per query language, how many of the evaluated queries it changed.
    The whole part is perturbed before any sample is drawn, so a query's noisy text (a
    distractor drawn from the part's other questions) is the same in a sampled run as in a full one."""
    parts = {name: replace(part, query_texts=spec.apply(part.query_texts, part.query_ids, part.lang))
             for name, part in full.data.parts.items()}
    task = sampled(full, TaskData(full.data.languages, parts), config)
    changed: dict[str, int] = {}
    counted: dict[str, int] = {}
    for name, part in task.data.parts.items():
        before = clean.data.parts[name].query_texts
        changed[part.lang] = changed.get(part.lang, 0) + sum(a != b for a, b in zip(part.query_texts, before, strict=True))
        counted[part.lang] = counted.get(part.lang, 0) + len(before)
    return task, {**spec.identity(), "changed": changed, "queries": counted}


def _evaluate(task: LoadedTask, retriever: Retriever, options: EncoderOptions, config: RunConfig,
              perturbation: dict[str, Any] | None, load_seconds: float) -> TaskResult:
    definition = task.definition
    clock = time.perf_counter
    t0 = clock() - load_seconds
    index = task.index
    t1 = clock()

    work = Workspace(EmbeddingCache(config.cache_dir), config.quiet,
                     encode_batches=config.engine.encode_hook(retriever) if config.engine is not None else None)
    scorer = retriever.index(index, work)
    t2 = clock()

    timings = {"load_data": t1 - t0, "encode": t2 - t1}
    metrics = tuple(dict.fromkeys([*definition.metrics, *config.metrics]))
    cutoffs = tuple(m for m in metrics if "@" in m)
    scores = score_settings(index, task.plans, scorer, cutoffs, config.memory_budget, config.quiet, timings=timings,
                            engine=config.engine, shard_size=config.shard_size)
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
        "encoded_queries": work.queries.encoded,
        "encoded_candidates": work.passages.encoded,
        "cache_hits": work.cache.stats.hits,
        "corrupt_cache_shards": work.cache.stats.corrupt_shards,
        **retriever.usage(),
        **(config.engine.usage() if config.engine is not None else {}),
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
        perturbation=perturbation,
    )
