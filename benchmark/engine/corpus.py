"""The engine's view of a task's data: per language, queries, candidates and answers.

Format readers produce this and nothing downstream knows which file format it came from. Question
ids are shared by translations: that shared id is what links a query in one language to its
answer in another.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LanguageData:
    """One language's queries and candidates.

    ``answers[qid]`` holds the indices (into this language's candidates) of the candidates relevant
    to question ``qid``: a question id that has no entry has no answer in this language.
    """

    lang: str
    query_ids: list[str]
    query_texts: list[str]
    candidate_ids: list[str]
    candidate_texts: list[str]
    answers: dict[str, tuple[int, ...]]
    skipped_queries: int = 0

    def __post_init__(self) -> None:
        if len(self.query_ids) != len(self.query_texts) or len(self.candidate_ids) != len(self.candidate_texts):
            raise ValueError(f"{self.lang}: ids and texts differ in length")


@dataclass
class TaskData:
    """All languages of a task, in the task's language order."""

    languages: tuple[str, ...]
    by_lang: dict[str, LanguageData] = field(default_factory=dict)

    def __getitem__(self, lang: str) -> LanguageData:
        return self.by_lang[lang]

    @property
    def n_candidates(self) -> int:
        return sum(len(self.by_lang[lang].candidate_ids) for lang in self.languages)

    @property
    def n_queries(self) -> int:
        return sum(len(self.by_lang[lang].query_ids) for lang in self.languages)
