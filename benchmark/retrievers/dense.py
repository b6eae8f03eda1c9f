"""The dense retriever: any encoder's embeddings, scored exactly.

Both roles are embedded through the cache (each unique text once, :mod:`benchmark.engine.embed`),
except a streamed corpus: it is embedded chunk by chunk into a matrix that stays in the cache's
files (:mod:`benchmark.engine.chunked`; a text repeated in two chunks is encoded in each). Then
:class:`~benchmark.engine.search.DenseScorer` computes every score exactly, so one block of
scores against every candidate serves every pool. A symmetric task's candidates are embedded in
the query role, with the query prompt (``index.candidate_role``): one embedding per text serves
both sides. Cosine (the vectors' own, computed exactly) when
``--normalize`` says so, or by default when the encoder's similarity is cosine; else the inner
product.
"""

from __future__ import annotations

import numpy as np

from benchmark.encoders import Encoder, EncoderOptions, ModelIdentity, RemoteEncoder
from benchmark.engine.chunked import ChunkedMatrix, embed_corpus
from benchmark.engine.embed import embed_texts
from benchmark.engine.search import DenseScorer
from benchmark.engine.settings import TaskIndex
from benchmark.errors import UsageError
from .base import Retriever, Workspace


class DenseRetriever(Retriever):
    """``encoder`` as a retriever; ``options`` are the prompts, batch size and normalisation;
    ``spec``: the ``--model`` it was loaded from, if any (a Ray actor loads its own copy from it)."""

    uses_cache = True

    def __init__(self, encoder: Encoder, options: EncoderOptions, spec: str | None = None) -> None:
        self.encoder, self.options, self.name, self.spec = encoder, options, encoder.name, spec

    def identity(self) -> ModelIdentity:
        return ModelIdentity.of(self.encoder.identity(), self.name, self.encoder.similarity)

    def usage(self) -> dict[str, int]:
        return self.encoder.usage() if isinstance(self.encoder, RemoteEncoder) else {}

    def index(self, index: TaskIndex, workspace: Workspace) -> DenseScorer:
        options, encoder = self.options, self.encoder
        cosine = options.normalize if options.normalize is not None else encoder.similarity == "cosine"
        flush_size = encoder.flush_size if isinstance(encoder, RemoteEncoder) else None
        hook = workspace.encode_batches
        queries = embed_texts(encoder, index.query_texts, "query", options, workspace.cache, workspace.quiet,
                              flush_size=flush_size, stats=workspace.queries, encode_batches=hook and hook("query"))
        role, source = index.candidate_role, index.candidate_texts
        in_memory = source.texts() if source.in_memory else None
        candidates: np.ndarray | ChunkedMatrix
        if role == "query" and in_memory == index.query_texts:
            candidates = queries  # a symmetric task whose candidates are its queries: the same vectors
            workspace.passages.unique += workspace.queries.unique
        elif in_memory is not None:
            candidates = embed_texts(encoder, in_memory, role, options, workspace.cache, workspace.quiet,
                                     flush_size=flush_size, stats=workspace.passages, encode_batches=hook and hook(role))
        else:
            candidates = embed_corpus(encoder, source, role, options, workspace.cache, workspace.quiet,
                                      stats=workspace.passages, encode_batches=hook and hook(role))
        if queries.shape[1] != candidates.shape[1]:
            raise UsageError(f"model {encoder.name}: query vectors have dimension {queries.shape[1]}, passages {candidates.shape[1]}")
        return DenseScorer(queries, candidates, encoder.name, cosine=cosine)
