"""The lexical baseline: BM25 (bm25s) over the same pools, settings, metrics and result files.

BM25's term weights depend on the pool (document frequencies, average length), so unlike an
embedding it is not "encoded once": each pool (every language, and the multilingual pool of all
of them) gets its own index, and a block of queries is scored against a pool as a sparse product,
query term counts x the pool's precomputed BM25 weight matrix. FAISS is not involved.

A lexical index of a pool is in memory by nature (every candidate's tokens): BM25 reads the
candidate texts chunk by chunk from the task's TextSource (a streamed corpus is parsed a chunk at
a time) but keeps every candidate's tokens, so its memory grows with the corpus, unlike the dense
path's.

Tokenisation is Unicode-aware and per language: lower-cased words for languages written with
spaces; character bigrams for those written without (zh, ja, th), where a "word" would be a whole
clause.
"""

from __future__ import annotations

import hashlib
import threading
from importlib import metadata
from typing import Any

import numpy as np
import regex

from benchmark.encoders import EncoderOptions, ModelIdentity
from benchmark.engine.search import PoolScores
from benchmark.engine.settings import TaskIndex
from benchmark.errors import XbenchError
from .base import Retriever, Workspace

PAIR_ROWS = 256  # query rows scored at a time for pair scores
UNSEGMENTED = {"zh", "ja", "th", "lo", "km", "my"}
# letters, digits and combining marks: Python's \w leaves out the marks, which cuts Hindi words
# (vowel signs, virama) into single consonants
WORD = regex.compile(r"[\p{L}\p{N}\p{M}]+")
TOKENIZER_VERSION = "words-or-char-bigrams-v2"


def tokenize(text: str, lang: str) -> list[str]:
    words = WORD.findall(text.lower())
    if lang not in UNSEGMENTED:
        return words
    tokens = []
    for run in words:
        tokens += [run[i : i + 2] for i in range(len(run) - 1)] if len(run) > 1 else [run]
    return tokens


class BM25Retriever(Retriever):
    """``--model bm25``: registered under that name, with bm25s's defaults k1 = 1.5, b = 0.75.
    ``options`` are accepted as every registered model's are; no encoder option changes BM25."""

    def __init__(self, options: EncoderOptions | None = None, k1: float = 1.5, b: float = 0.75) -> None:
        try:
            self.version = metadata.version("bm25s")
        except metadata.PackageNotFoundError:
            raise XbenchError("model bm25: the bm25s package is not installed (pip install 'xbench[bm25]')") from None
        self.k1, self.b = k1, b
        self.name = "bm25"

    @property
    def fingerprint(self) -> str:
        """Changes with bm25s's version, k1, b and the tokeniser: whatever could change a score."""
        return hashlib.sha256(f"bm25s {self.version} {self.k1} {self.b} {TOKENIZER_VERSION}".encode()).hexdigest()

    def identity(self) -> ModelIdentity:
        return ModelIdentity(self.name, "lexical", self.fingerprint, "bm25", revision=f"bm25s {self.version}",
                             details={"k1": self.k1, "b": self.b, "tokenizer": TOKENIZER_VERSION})

    def index(self, index: TaskIndex, workspace: Workspace) -> "BM25Scorer":
        return BM25Scorer(index, self.k1, self.b)


class BM25Scorer:
    """One BM25 index per pool. A score is the inner product of a query's term counts with a
    candidate's BM25 term weights, so ``dimension`` is the number of terms: the vocabulary of the
    multilingual pool, which holds every language's. Not cosines: ``cosine`` is False."""

    cosine = False
    column_bytes = 0  # every candidate's term weights are held: one shard serves

    def __init__(self, index: TaskIndex, k1: float, b: float) -> None:
        self.index, self.k1, self.b = index, k1, b
        self.candidate_tokens = [tokenize(t, index.languages[int(li)]) for t, li in zip(index.candidate_texts, index.candidate_langs)]
        self.query_tokens = [tokenize(t, index.languages[int(li)]) for t, li in zip(index.query_texts, index.query_langs)]
        self._pools: dict[tuple[int, int], tuple[dict[str, int], Any]] = {}
        self._lock = threading.Lock()
        # the dimension: the vocabulary of an index of every candidate, as bm25s builds it (its
        # terms plus the empty term; an index of nothing holds "<empty>" too), without building it
        vocabulary = len({token for tokens in self.candidate_tokens for token in tokens})
        self.dimension = vocabulary + 1 if vocabulary else 2
        self.n_candidates = len(self.candidate_tokens)

    def _pool(self, pool: slice) -> tuple[dict[str, int], Any]:
        """The pool's BM25 index, built when first asked for (a pivot task never asks for most
        of the pools a parallel task has); settings of one block ask from parallel threads."""
        with self._lock:
            if (pool.start, pool.stop) not in self._pools:
                self._pools[(pool.start, pool.stop)] = self._build(pool)
            return self._pools[(pool.start, pool.stop)]

    def _build(self, pool: slice):
        import logging

        import bm25s
        import scipy.sparse as sp

        logging.getLogger("bm25s").setLevel(logging.ERROR)  # it announces every index it builds
        retriever = bm25s.BM25(k1=self.k1, b=self.b)
        retriever.index(self.candidate_tokens[pool] if any(self.candidate_tokens[pool]) else [["<empty>"]],
                        show_progress=False)
        vocab = retriever.vocab_dict
        s = retriever.scores
        weights = sp.csr_matrix((s["data"], s["indices"], s["indptr"]), shape=(len(s["indptr"]) - 1, s["num_docs"]))
        return vocab, weights

    def scores(self, rows: np.ndarray, pool: slice) -> np.ndarray:
        """The BM25 scores of the query rows ``rows`` (any selection) against ``pool``'s index:
        each row of the sparse product is computed from that query's term counts alone, so the
        bits do not depend on which rows are scored together."""
        import scipy.sparse as sp

        vocab, weights = self._pool(pool)
        found, cols = [], []
        for r, row in enumerate(rows):
            for token in self.query_tokens[int(row)]:
                column = vocab.get(token)
                if column is not None:
                    found.append(r)
                    cols.append(column)
        counts = sp.csr_matrix((np.ones(len(found), dtype=np.float32), (found, cols)), shape=(len(rows), weights.shape[0]))
        return np.ascontiguousarray((counts @ weights).toarray(), dtype=np.float32)

    def block(self, rows: np.ndarray, shard: slice) -> PoolScores:
        """A pool's BM25 scores depend on the whole pool (its statistics), so a view scores the
        rows against the pool's index and keeps the shard's columns."""

        def view(pool: slice) -> np.ndarray:
            first, last = max(pool.start, shard.start) - pool.start, min(pool.stop, shard.stop) - pool.start
            return self.scores(rows, pool)[:, first:last]

        return view

    def pair_scores(self, rows: np.ndarray, columns: np.ndarray, pool: slice) -> np.ndarray:
        """Row ``rows[i]`` against column ``columns[i]`` as a member of ``pool``: read off the rows'
        scores against the pool, a few hundred rows at a time."""
        out = np.zeros(len(rows))
        unique, at = np.unique(np.asarray(rows, dtype=np.int64), return_inverse=True)
        for first in range(0, len(unique), PAIR_ROWS):
            chosen = (at >= first) & (at < first + PAIR_ROWS)
            scores = self.scores(unique[first : first + PAIR_ROWS], pool)
            out[chosen] = scores[at[chosen] - first, np.asarray(columns)[chosen] - pool.start]
        return out
