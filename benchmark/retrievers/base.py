"""What a retriever is to xbench: a model as the runner sees it.

A retriever has an identity (what a result records) and, given a task's index, builds a
:class:`~benchmark.engine.search.Scorer` that yields score blocks over the task's pools. Two kinds
ship: the dense retriever, which wraps any encoder (:mod:`.dense`), and BM25, a lexical retriever
beside it (:mod:`.bm25`). Being a retriever is declared by subclassing :class:`Retriever`; whatever
``--model`` names that is not one is an encoder, and gets the dense retriever.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable

from benchmark.encoders.identity import ModelIdentity
from benchmark.engine.cache import EmbeddingCache
from benchmark.engine.embed import EmbedStats, EncodeBatches
from benchmark.engine.search import Scorer
from benchmark.engine.settings import TaskIndex


@dataclass
class Workspace:
    """What a retriever may use while it indexes a task (the embedding cache, whether to show
    progress, how to encode) and what it reports back (how many texts of each role it embedded).
    ``encode_batches``: given a role, the hook that encodes that role's missing batches
    (:mod:`benchmark.engine.embed`); None encodes here, in this process."""

    cache: EmbeddingCache
    quiet: bool = True
    encode_batches: Callable[[str], EncodeBatches] | None = None
    queries: EmbedStats = field(default_factory=EmbedStats)
    passages: EmbedStats = field(default_factory=EmbedStats)


class Retriever(ABC):
    """A model that scores a task's pools. ``uses_cache``: whether indexing writes embeddings
    (so the embedding cache must be writable before anything is encoded)."""

    name: str
    uses_cache: bool = False

    @abstractmethod
    def identity(self) -> ModelIdentity:
        """Who the model is, as a result records it."""

    @abstractmethod
    def index(self, index: TaskIndex, workspace: Workspace) -> Scorer:
        """Everything needed to score ``index``'s queries against its pools."""

    def usage(self) -> dict[str, int]:
        """Counters of what the model used so far (API requests...), recorded in a result's
        ``encoding``; none by default."""
        return {}
