"""Enumerating a task's settings (PROTOCOL.md, "Settings") over one shared index of texts.

All queries of all languages form one list and all candidates one matrix (languages in task
order, each a contiguous block), so every setting is a choice of query rows, a block of candidate
columns and, per query, the relevant columns: nothing is copied or re-encoded per setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np

from .corpus import TaskData

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

    @property
    def n_queries(self) -> int:
        return len(self.query_rows)


@dataclass(frozen=True)
class TaskIndex:
    """The flat view of a task: every query and every candidate once, with language offsets."""

    languages: tuple[str, ...]
    query_ids: list[str]
    query_texts: list[str]
    query_langs: np.ndarray  # language position of each query row
    candidate_texts: list[str]
    candidate_offsets: dict[str, int]  # first candidate column of each language
    candidate_counts: dict[str, int]

    def pool_of(self, lang: str) -> slice:
        if lang == ALL:
            return slice(0, len(self.candidate_texts))
        start = self.candidate_offsets[lang]
        return slice(start, start + self.candidate_counts[lang])

    def query_block(self, lang: str) -> tuple[int, int]:
        rows = np.flatnonzero(self.query_langs == self.languages.index(lang))
        return (int(rows[0]), int(rows[-1]) + 1) if len(rows) else (0, 0)


def build_index(data: TaskData) -> TaskIndex:
    query_ids: list[str] = []
    query_texts: list[str] = []
    query_langs: list[int] = []
    candidate_texts: list[str] = []
    offsets, counts = {}, {}
    for position, lang in enumerate(data.languages):
        part = data[lang]
        query_ids += part.query_ids
        query_texts += part.query_texts
        query_langs += [position] * len(part.query_ids)
        offsets[lang] = len(candidate_texts)
        counts[lang] = len(part.candidate_texts)
        candidate_texts += part.candidate_texts
    return TaskIndex(
        languages=data.languages,
        query_ids=query_ids,
        query_texts=query_texts,
        query_langs=np.asarray(query_langs, dtype=np.int32),
        candidate_texts=candidate_texts,
        candidate_offsets=offsets,
        candidate_counts=counts,
    )


def _pad(rows: list[list[int]]) -> np.ndarray:
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), max(width, 1)), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def protocol_settings(kinds: tuple[str, ...], languages: tuple[str, ...]) -> list[Setting]:
    """Every setting the protocol defines for ``kinds`` over ``languages``, in the order of result
    files: per query language, mono X->X, then cross X->Y in language order, then multi X->all.

    The one enumeration of setting keys: :func:`plan_settings` keeps those that have a query,
    validation expects all of them from a full run, and ``xbench tasks`` counts them without data.
    """
    settings: list[Setting] = []
    for lang in languages:
        if "mono" in kinds:
            settings.append(Setting("mono", lang, lang))
        if "cross" in kinds:
            settings += [Setting("cross", lang, other) for other in languages if other != lang]
        if "multi" in kinds:
            settings.append(Setting("multi", lang, ALL))
    return settings


def plan_settings(data: TaskData, index: TaskIndex, kinds: tuple[str, ...] = ("mono", "cross", "multi")) -> list[SettingPlan]:
    """Every setting of :func:`protocol_settings` that has at least one query, in its order.

    Mono X->X and cross X->Y take the queries of X whose id has an answer in Y; multi takes every
    query of X against the pool of all languages, relevant = the id's answers in every language.
    """
    plans: list[SettingPlan] = []
    blocks = {lang: index.query_block(lang) for lang in data.languages}
    for setting in protocol_settings(kinds, data.languages):
        lo, hi = blocks[setting.query_lang]
        ids = index.query_ids[lo:hi]
        if setting.kind == "multi":
            if hi > lo:
                relevant = [
                    [index.candidate_offsets[other] + c for other in data.languages for c in data[other].answers.get(qid, ())]
                    for qid in ids
                ]
                plans.append(SettingPlan(setting, np.arange(lo, hi, dtype=np.int64), index.pool_of(ALL), _pad(relevant)))
            continue
        answers, offset = data[setting.corpus_lang].answers, index.candidate_offsets[setting.corpus_lang]
        rows, relevant = [], []
        for i, qid in enumerate(ids):
            if qid in answers:
                rows.append(lo + i)
                relevant.append([offset + c for c in answers[qid]])
        if rows:
            plans.append(SettingPlan(setting, np.asarray(rows, dtype=np.int64), index.pool_of(setting.corpus_lang), _pad(relevant)))
    return plans
