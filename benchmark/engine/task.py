"""A loaded task: a definition and a data location turned into what evaluation works on.

One chain, written once, behind every caller that needs a task's data (a run, ``xbench tasks``,
the leaderboard's check of query ids, the performance benchmark): choose the languages and the
candidate text, resolve the files (and verify their checksums), read them with the definition's
format reader, check every language has queries and candidates, optionally sample the queries,
build the flat index, and plan the settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark.errors import UsageError, XbenchError
from .corpus import TaskData, parts_of
from .datafiles import ResolvedData, resolve_data
from .formats import load_task_data
from .settings import SettingPlan, TaskIndex, build_index, plan_settings, protocol_settings
from .taskdef import CANDIDATE_TEXTS, TaskDefinition

log = logging.getLogger("xbench.task")


@dataclass(frozen=True)
class LoadedTask:
    """A task's data ready to evaluate: its texts indexed once and its settings planned."""

    definition: TaskDefinition
    languages: tuple[str, ...]
    candidate_text: str
    files: ResolvedData
    data: TaskData
    index: TaskIndex
    plans: list[SettingPlan]


def load_task(
    definition: TaskDefinition,
    data_dir: Path | None = None,
    *,
    langs: tuple[str, ...] | None = None,
    candidate_text: str | None = None,
    allow_modified: bool = False,
    sample: int | None = None,
    seed: int = 0,
    download: bool = True,
    check: bool = True,
) -> LoadedTask:
    """Load ``definition``'s data from ``data_dir`` (else $XBENCH_DATA, else the user cache).

    ``langs`` restricts the languages, ``candidate_text`` overrides the definition's, ``sample``
    keeps the queries of that many question ids drawn with ``seed``. With ``check`` (what a run
    needs) a language with no queries or no candidates is refused and skipped questions and
    left-out cross settings are warned about; without it the data is only read and counted.
    Raises :class:`~benchmark.engine.datafiles.DataUnavailable` when the files are not there
    (``download=False``) or are not the pinned ones.
    """
    languages = select_languages(definition, langs)
    candidate_text = candidate_text or definition.candidate_text
    if candidate_text not in CANDIDATE_TEXTS:
        raise UsageError(f"--candidate-text: {candidate_text!r} is not one of {', '.join(CANDIDATE_TEXTS)}")
    files = resolve_data(definition, languages, data_dir, allow_modified, download=download)
    data = load_task_data(definition, languages, files, candidate_text)
    if check:
        check_coverage(definition, data, files)
    if sample:
        sample_queries(data, sample, seed)
    index = build_index(data, candidate_role="query" if definition.symmetric else "passage")
    plans = plan_settings(data, index, definition.settings, definition.pivot)
    if check and not sample:
        warn_missing_settings(definition, languages, plans)
    return LoadedTask(definition, languages, candidate_text, files, data, index, plans)


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
    located = {name: rel for lang in data.languages
               for name, rel in zip(parts_of(lang, definition.pivot), definition.language_paths(lang))}
    for name, part in data.parts.items():
        where = data_files.root / located[name]
        if not part.query_ids or not part.candidate_texts:
            side = "questions with an answer sentence" if not part.query_ids else "candidate sentences"
            skipped = f" ({part.skipped_queries} question(s) skipped: no answer sentence)" if part.skipped_queries else ""
            raise XbenchError(f"{where}: language {part.lang} of task {definition.name} has no {side}{skipped}")
        if part.skipped_queries:
            log.warning("%s: skipped %d of %d question(s) of %s with no answer sentence (recorded in counts.skipped_queries)",
                        where, part.skipped_queries, part.skipped_queries + len(part.query_ids), part.lang)


def warn_missing_settings(definition: TaskDefinition, langs: tuple[str, ...], plans: list[SettingPlan]) -> None:
    """Say which language pairs have no setting because no question of one is answered in the other."""
    if "cross" not in definition.settings or definition.pivot is not None:
        return
    planned = {p.setting for p in plans}
    missing = [f"{s.query_lang}->{s.corpus_lang}" for s in protocol_settings(("cross",), langs) if s not in planned]
    if missing:
        log.warning("task %s: no question is answered across %s; those cross-lingual settings are left out",
                    definition.name, ", ".join(missing))


def sample_queries(data: TaskData, size: int, seed: int) -> None:
    """Keep the queries of ``size`` question ids drawn with ``seed`` (translations stay together).

    Pools are untouched, so a sampled query's AP is its AP in a full run (up to the float
    rounding of near-tied scores, which depends on the block a query is scored in): a sample
    compares query by query with a full baseline.
    """
    ids = sorted({qid for part in data.parts.values() for qid in part.query_ids})
    chosen = set(np.random.default_rng(seed).choice(len(ids), size=min(size, len(ids)), replace=False).tolist())
    keep = {ids[i] for i in chosen}
    for part in data.parts.values():
        rows = [i for i, qid in enumerate(part.query_ids) if qid in keep]
        part.query_ids = [part.query_ids[i] for i in rows]
        part.query_texts = [part.query_texts[i] for i in rows]
