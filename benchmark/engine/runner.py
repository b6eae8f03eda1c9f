"""One evaluation, end to end: task definition -> data -> embeddings -> scores -> result.

This is the library entry point behind ``xbench run``; tests and other tools call
:func:`evaluate_task` directly.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .cache import EmbeddingCache
from .corpus import TaskData
from .datafiles import ResolvedData, resolve_data
from benchmark.encoders import EncoderOptions
from benchmark.errors import UsageError, XbenchError
from .formats import load_task_data
from benchmark.results.files import build_result
from benchmark.retrievers import Retriever, Workspace
from .scoring import score_settings
from .search import DEFAULT_MEMORY_BUDGET
from .settings import SettingPlan, build_index, plan_settings
from .taskdef import CANDIDATE_TEXTS, TaskDefinition

log = logging.getLogger("xbench.runner")


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


def select_languages(definition: TaskDefinition, langs: tuple[str, ...] | None) -> tuple[str, ...]:
    """The task's languages, restricted to ``langs`` (kept in the task's order)."""
    if not langs:
        return definition.languages
    chosen = tuple(lang for lang in definition.languages if lang in langs)
    if not chosen:
        raise UsageError(f"--langs: task {definition.name} has none of {', '.join(langs)} (it has {', '.join(definition.languages)})")
    return chosen


def check_coverage(definition: TaskDefinition, data: TaskData, data_files: ResolvedData) -> None:
    """Refuse a language left with no queries or no candidates; warn about questions skipped.

    An empty side would silently drop every setting of that language from a result that still
    looks whole, so it is an error naming the language and its file. Questions skipped for want of
    an answer sentence (PROTOCOL.md) are counted in the result's ``counts.skipped_queries`` and
    said on stderr.
    """
    for lang in data.languages:
        part = data[lang]
        where = data_files.root / definition.language_path(lang)
        if not part.query_ids or not part.candidate_texts:
            side = "questions with an answer sentence" if not part.query_ids else "candidate sentences"
            skipped = f" ({part.skipped_queries} question(s) skipped: no answer sentence)" if part.skipped_queries else ""
            raise XbenchError(f"{where}: language {lang} of task {definition.name} has no {side}{skipped}")
        if part.skipped_queries:
            log.warning("%s: skipped %d of %d question(s) of %s with no answer sentence (recorded in counts.skipped_queries)",
                        where, part.skipped_queries, part.skipped_queries + len(part.query_ids), lang)


def warn_missing_settings(definition: TaskDefinition, langs: tuple[str, ...], plans: list[SettingPlan]) -> None:
    """Say which language pairs have no setting because no question of one is answered in the other."""
    planned = {(p.setting.kind, p.setting.query_lang, p.setting.corpus_lang) for p in plans}
    if "cross" in definition.settings:
        missing = [f"{x}->{y}" for x in langs for y in langs if x != y and ("cross", x, y) not in planned]
        if missing:
            log.warning("task %s: no question is answered across %s; those cross-lingual settings are left out",
                        definition.name, ", ".join(missing))


def sample_queries(data: TaskData, size: int, seed: int) -> None:
    """Keep the queries of ``size`` question ids drawn with ``seed`` (translations stay together).

    Pools are untouched, so a sampled query's AP is its AP in a full run (up to the float
    rounding of near-tied scores, which depends on the block a query is scored in): a sample
    compares query by query with a full baseline.
    """
    ids = sorted({qid for lang in data.languages for qid in data[lang].query_ids})
    chosen = set(np.random.default_rng(seed).choice(len(ids), size=min(size, len(ids)), replace=False).tolist())
    keep = {ids[i] for i in chosen}
    for lang in data.languages:
        part = data[lang]
        rows = [i for i, qid in enumerate(part.query_ids) if qid in keep]
        part.query_ids = [part.query_ids[i] for i in rows]
        part.query_texts = [part.query_texts[i] for i in rows]


def evaluate_task(
    definition: TaskDefinition, retriever: Retriever, options: EncoderOptions, config: RunConfig = RunConfig()
) -> tuple[dict[str, Any], Any]:
    """Evaluate ``retriever`` (:func:`benchmark.retrievers.load_model`) on every setting of
    ``definition``; returns (result dict, per-query frame). ``options`` are recorded with the model."""
    clock = time.perf_counter
    t0 = clock()
    langs = select_languages(definition, config.langs)
    candidate_text = config.candidate_text or definition.candidate_text
    if candidate_text not in CANDIDATE_TEXTS:
        raise UsageError(f"--candidate-text: {candidate_text!r} is not one of {', '.join(CANDIDATE_TEXTS)}")
    data_files = resolve_data(definition, langs, config.data_dir, config.allow_modified_data)
    data = load_task_data(definition, langs, data_files, candidate_text)
    check_coverage(definition, data, data_files)
    if config.sample:
        sample_queries(data, config.sample, config.seed)
    index = build_index(data)
    plans = plan_settings(data, index, definition.settings)
    if not config.sample:
        warn_missing_settings(definition, langs, plans)
    t1 = clock()

    work = Workspace(EmbeddingCache(config.cache_dir), config.quiet)
    scorer = retriever.index(index, work)
    t2 = clock()

    timings = {"load_data": t1 - t0, "encode": t2 - t1}
    scores = score_settings(index, plans, scorer, definition.cutoff_metrics, config.memory_budget, config.quiet, timings=timings)
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
        languages=langs,
        model=model,
        data=data_files,
        candidate_text=candidate_text,
        scores=scores,
        timings=timings,
        encoding=encoding,
        sample={"queries": config.sample, "seed": config.seed} if config.sample else None,
        counts={
            "queries": {lang: len(data[lang].query_ids) for lang in langs},
            "candidates": dict(index.candidate_counts),
            "skipped_queries": {lang: data[lang].skipped_queries for lang in langs},
        },
    )
