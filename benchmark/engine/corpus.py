"""The engine's view of a task's data: per part, queries, candidates and answers.

A part is one block of texts in one language. In a parallel task (LAReQA) a part is a language;
in a pivot task (Tatoeba) every pair has two parts, its two sides (``afr-eng.afr``,
``afr-eng.eng``), since the pivot's texts differ from pair to pair. Format readers produce this
and nothing downstream knows which file format it came from. Question ids are shared by
translations: that shared id is what links a query in one part to its answer in another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from .textsource import TextSource


@dataclass
class LanguageData:
    """One part's queries and candidates, all in the language ``lang``.

    ``candidate_texts`` is a :class:`~.textsource.TextSource` (a streamed corpus); a reader of a
    small format may give a list, which is wrapped as an in-memory one. A candidate is known by
    its column alone (no id is kept: a corpus's millions of ids would be millions of objects).
    ``answers[qid]`` holds the indices (into this part's candidates) of the candidates relevant
    to question ``qid``: a question id that has no entry has no answer in this part. ``part``
    names the part (default: the language).
    """

    lang: str
    query_ids: list[str]
    query_texts: list[str]
    candidate_texts: TextSource | Sequence[str]
    answers: dict[str, tuple[int, ...]]
    skipped_queries: int = 0
    part: str = ""

    def __post_init__(self) -> None:
        self.part = self.part or self.lang
        if not isinstance(self.candidate_texts, TextSource):
            self.candidate_texts = TextSource.from_texts(self.candidate_texts)
        if len(self.query_ids) != len(self.query_texts):
            raise ValueError(f"{self.lang}: query ids and texts differ in length")


@dataclass
class TaskData:
    """All parts of a task, in the task's language order (a pair's own side before the pivot's)."""

    languages: tuple[str, ...]
    parts: dict[str, LanguageData] = field(default_factory=dict)

    def __getitem__(self, part: str) -> LanguageData:
        return self.parts[part]

    @property
    def n_candidates(self) -> int:
        return sum(len(part.candidate_texts) for part in self.parts.values())

    @property
    def n_queries(self) -> int:
        return sum(len(part.query_ids) for part in self.parts.values())


def pair_part(lang: str, pivot: str, side: str) -> str:
    """The name of one side of a pivot task's pair, as its files are named: ``afr-eng.eng``."""
    return f"{lang}-{pivot}.{side}"


def parts_of(lang: str, pivot: str | None) -> tuple[str, ...]:
    """The parts a task's language reads into, in the order of its paths
    (:meth:`~benchmark.engine.taskdef.TaskDefinition.language_paths`)."""
    return (lang,) if pivot is None else (pair_part(lang, pivot, lang), pair_part(lang, pivot, pivot))
