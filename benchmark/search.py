"""Exact inner-product search in memory-bounded blocks.

Full-ranking AP needs the score of every candidate, not just the top k, so the unit of work is a
block of queries against the whole candidate matrix: FAISS's exact inner-product primitive
(``pairwise_distances``; ``pairwise_distance_gpu`` when FAISS sees a GPU) fills a
(rows x candidates) block, and metrics read their rankings off that block. Block height is chosen
so a block stays within ``memory_budget`` bytes; no pool x pool matrix is ever held.
"""

from __future__ import annotations

from typing import Callable, Iterator, Protocol

import numpy as np

DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024


def _gpu_resources():
    import faiss

    if not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() == 0:
        return None
    return faiss.StandardGpuResources()


def device_name() -> str:
    return "gpu" if _gpu_resources() is not None else "cpu"


def block_rows(n_candidates: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """Rows per block: the score block plus a same-sized comparison mask fit the budget."""
    return max(16, int(memory_budget // max(1, n_candidates * 5)))


def score_blocks(
    queries: np.ndarray, candidates: np.ndarray, rows: tuple[int, int], memory_budget: int = DEFAULT_MEMORY_BUDGET
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield (start, stop, scores[start:stop, :]) over the query rows [rows[0], rows[1])."""
    import faiss

    resources = _gpu_resources()
    step = block_rows(len(candidates), memory_budget)
    candidates = np.ascontiguousarray(candidates, dtype=np.float32)
    for start in range(rows[0], rows[1], step):
        stop = min(rows[1], start + step)
        block = np.ascontiguousarray(queries[start:stop], dtype=np.float32)
        if resources is not None:
            scores = faiss.pairwise_distance_gpu(resources, block, candidates, metric=faiss.METRIC_INNER_PRODUCT)
        else:
            scores = faiss.pairwise_distances(block, candidates, faiss.METRIC_INNER_PRODUCT)
        yield start, stop, scores


PoolScores = Callable[[slice], np.ndarray]


class Scorer(Protocol):
    """Where score blocks come from: ``blocks`` yields (start, stop, view) over query rows, and
    ``view(pool)`` gives the (stop - start) x |pool| scores of those queries against a pool."""

    def blocks(self, rows: tuple[int, int], memory_budget: int) -> Iterator[tuple[int, int, PoolScores]]: ...


class DenseScorer:
    """Embeddings: one exact inner-product block against every candidate serves every pool, since
    a dense score does not depend on which other candidates are in the pool."""

    def __init__(self, queries: np.ndarray, candidates: np.ndarray) -> None:
        self.queries, self.candidates = queries, candidates

    def blocks(self, rows: tuple[int, int], memory_budget: int = DEFAULT_MEMORY_BUDGET) -> Iterator[tuple[int, int, PoolScores]]:
        for start, stop, block in score_blocks(self.queries, self.candidates, rows, memory_budget):
            yield start, stop, (lambda pool, block=block: block[:, pool])
