"""Enumerating a task's settings (PROTOCOL.md, "Settings", "Tatoeba") over one shared index of texts.

All queries of all parts form one list and all candidates one matrix (parts in task order, each
a contiguous block), so every setting is a choice of query rows, a block of candidate columns
and, per query, the relevant columns: nothing is copied or re-encoded per setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Mapping

import numpy as np

from .corpus import TaskData, pair_part
from .textsource import TextSource

ALL = "all"


@dataclass(frozen=True, order=True)
class Setting:
    """The one key of a setting: every table, merge, lookup and message uses it (and its fields are
    the first three columns of every per-query table)."""

    kind: str  # "mono" | "cross" | "multi"
    query_lang: str
    corpus_lang: str  # a language, or "all" for the multilingual pool

    FIELDS: ClassVar[tuple[str, str, str]] = ("kind", "query_lang", "corpus_lang")

    @property
    def label(self) -> str:
        """How messages and reports name it: ``cross en->de``."""
        return f"{self.kind} {self.query_lang}->{self.corpus_lang}"

    def partner(self, pivot: str) -> str:
        """In a pivot task, the language paired with the pivot (whichever side queries)."""
        return self.corpus_lang if self.query_lang == pivot else self.query_lang

    def fields(self) -> dict[str, str]:
        """The setting's identity as it appears in result records and per-query rows."""
        return {"kind": self.kind, "query_lang": self.query_lang, "corpus_lang": self.corpus_lang}

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> "Setting":
        """The key of a record or a per-query row that carries the three fields."""
        return cls(str(record["kind"]), str(record["query_lang"]), str(record["corpus_lang"]))


@dataclass(frozen=True)
class SettingPlan:
    """Which rows, columns and answers make up one setting."""

    setting: Setting
    query_rows: np.ndarray  # indices into TaskIndex.query_*, ascending
    pool: slice  # a block of TaskIndex candidate columns
    relevant: np.ndarray  # (n_queries, R) candidate columns, padded with -1
    block: tuple[int, int]  # the query part its rows come from: settings of one block are scored together

    @property
    def n_queries(self) -> int:
        return len(self.query_rows)


@dataclass(frozen=True)
class TaskIndex:
    """The flat view of a task: every query and every candidate once, with part offsets.

    Parts are a task's blocks of texts (:mod:`.corpus`); when ``part_langs`` is None each part is
    a language (a parallel task) and a part's query block is found from ``query_langs``.
    ``candidate_role``: the role candidates are embedded with ("query" for a symmetric task).
    ``candidate_texts`` is a :class:`~.textsource.TextSource` (the parts' chunks, in part order):
    a streamed corpus is never a list of its texts.
    """

    languages: tuple[str, ...]  # the languages of the texts (a pivot task's include the pivot)
    query_ids: list[str]
    query_texts: list[str]
    query_langs: np.ndarray  # language position of each query row
    candidate_texts: TextSource
    candidate_offsets: dict[str, int]  # first candidate column of each part
    candidate_counts: dict[str, int]
    query_offsets: dict[str, tuple[int, int]] | None = None  # query rows of each part
    part_langs: dict[str, str] | None = None  # the language of each part
    candidate_role: str = "passage"

    def pool_of(self, part: str) -> slice:
        if part == ALL:
            return slice(0, len(self.candidate_texts))
        start = self.candidate_offsets[part]
        return slice(start, start + self.candidate_counts[part])

    def query_block(self, part: str) -> tuple[int, int]:
        if self.query_offsets is not None:
            return self.query_offsets[part]
        rows = np.flatnonzero(self.query_langs == self.languages.index(part))
        return (int(rows[0]), int(rows[-1]) + 1) if len(rows) else (0, 0)

    def lang_of(self, part: str) -> str:
        return part if self.part_langs is None else self.part_langs[part]

    @cached_property
    def candidate_langs(self) -> np.ndarray:
        """The language position (in ``languages``) of each candidate column: what the bias
        measures count the top of a multilingual ranking by."""
        langs = np.full(len(self.candidate_texts), -1, dtype=np.int32)
        for part in self.candidate_offsets:
            langs[self.pool_of(part)] = self.languages.index(self.lang_of(part))
        return langs


def build_index(data: TaskData, candidate_role: str = "passage") -> TaskIndex:
    query_ids: list[str] = []
    query_texts: list[str] = []
    query_langs: list[int] = []
    sources: list[TextSource] = []
    n_candidates = 0
    languages = tuple(dict.fromkeys([*data.languages, *(part.lang for part in data.parts.values())]))
    offsets, counts, query_offsets = {}, {}, {}
    for name, part in data.parts.items():
        query_offsets[name] = (len(query_ids), len(query_ids) + len(part.query_ids))
        query_ids += part.query_ids
        query_texts += part.query_texts
        query_langs += [languages.index(part.lang)] * len(part.query_ids)
        offsets[name] = n_candidates
        counts[name] = len(part.candidate_texts)
        n_candidates += counts[name]
        sources.append(part.candidate_texts)
    return TaskIndex(
        languages=languages,
        query_ids=query_ids,
        query_texts=query_texts,
        query_langs=np.asarray(query_langs, dtype=np.int32),
        candidate_texts=TextSource.concat(sources),
        candidate_offsets=offsets,
        candidate_counts=counts,
        query_offsets=query_offsets,
        part_langs={name: part.lang for name, part in data.parts.items()},
        candidate_role=candidate_role,
    )


def _pad(rows: list[list[int]]) -> np.ndarray:
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), max(width, 1)), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def protocol_settings(kinds: tuple[str, ...], languages: tuple[str, ...], pivot: str | None = None) -> list[Setting]:
    """Every setting the protocol defines for ``kinds`` over ``languages``, in the order of result
    files. Parallel task: per query language, mono X->X, then cross X->Y in language order, then
    multi X->all. Pivot task (``pivot`` given; only cross): per language X->pivot, then pivot->X.

    The one enumeration of setting keys: :func:`plan_settings` keeps those that have a query,
    validation expects all of them from a full run, and ``xbench tasks`` counts them without data.
    """
    settings: list[Setting] = []
    for lang in languages:
        if pivot is not None:
            if "cross" in kinds:
                settings += [Setting("cross", lang, pivot), Setting("cross", pivot, lang)]
            continue
        if "mono" in kinds:
            settings.append(Setting("mono", lang, lang))
        if "cross" in kinds:
            settings += [Setting("cross", lang, other) for other in languages if other != lang]
        if "multi" in kinds:
            settings.append(Setting("multi", lang, ALL))
    return settings


def setting_parts(setting: Setting, pivot: str | None = None) -> tuple[str, str]:
    """(query part, pool part) of a setting: the languages themselves in a parallel task, the two
    sides of the pair in a pivot task."""
    if pivot is None:
        return setting.query_lang, setting.corpus_lang
    lang = setting.partner(pivot)
    return pair_part(lang, pivot, setting.query_lang), pair_part(lang, pivot, setting.corpus_lang)


def plan_settings(data: TaskData, index: TaskIndex, kinds: tuple[str, ...] = ("mono", "cross", "multi"),
                  pivot: str | None = None) -> list[SettingPlan]:
    """Every setting of :func:`protocol_settings` that has at least one query, in its order.

    Mono X->X and cross X->Y take the queries of X whose id has an answer in Y; multi takes every
    query of X against the pool of all languages, relevant = the id's answers in every language.
    A pivot task's X->pivot takes the queries of the pair's X side against its pivot side.
    """
    plans: list[SettingPlan] = []
    for setting in protocol_settings(kinds, data.languages, pivot):
        query_part, pool_part = setting_parts(setting, pivot)
        block = lo, hi = index.query_block(query_part)
        ids = index.query_ids[lo:hi]
        if setting.kind == "multi":
            if hi > lo:
                relevant = [
                    [index.candidate_offsets[other] + c for other in data.languages for c in data[other].answers.get(qid, ())]
                    for qid in ids
                ]
                plans.append(SettingPlan(setting, np.arange(lo, hi, dtype=np.int64), index.pool_of(ALL), _pad(relevant), block))
            continue
        answers, offset = data[pool_part].answers, index.candidate_offsets[pool_part]
        rows, relevant = [], []
        for i, qid in enumerate(ids):
            if qid in answers:
                rows.append(lo + i)
                relevant.append([offset + c for c in answers[qid]])
        if rows:
            plans.append(SettingPlan(setting, np.asarray(rows, dtype=np.int64), index.pool_of(pool_part), _pad(relevant), block))
    return plans
