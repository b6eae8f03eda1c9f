"""Exact inner-product search in memory-bounded blocks, with scores that do not depend on how the
work is cut.

Full-ranking AP needs the score of every candidate, not just the top k, so the unit of work is a
block of queries against the whole candidate matrix, and metrics read their rankings off that
block. Block height is chosen so a block stays within ``memory_budget`` bytes; no pool x pool
matrix is ever held.

A float32 matrix product rounds differently when the blocks, the BLAS kernel or its thread count
change, and that moved per-query APs with ``--memory-budget``. So every score is computed exactly:
each vector v is scaled by an exact power of two, 2^-e with e from its float64 norm (so the scaled
norm is below 1), and rounded to the grid 2^-26. Its coordinates are then integers of magnitude at
most 2^26, every product of two coordinates an integer below 2^52 and, by Cauchy-Schwarz, every
partial sum of a dot product, in any order, an integer of magnitude below 2^53: float64 holds each
exactly, so a float64 matrix product (BLAS dgemm, any blocking, any threads; or CUDA) returns the
exact integer dot product. An inner-product score is that integer times 2^(e_q + e_c - 52), also
exact; a cosine is computed from it and the exact squared norms of the coordinates, so raw
integer vectors get exact cosine ties (``cosine_scores``). The rounding to the grid is a fixed
function of each vector alone: identical vectors tie exactly, integer-valued vectors of norm
below 2^26 (n-gram counts) are not rounded at all, and the change against the true inner product
of the given vectors is at most about 2^-26 of the product of their norms.
"""

from __future__ import annotations

import sys
from typing import Callable, Protocol

import numpy as np
from numba import njit

from benchmark.errors import XbenchError

DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024
GRID_BITS = 26  # coordinates of a norm-< 1 vector are rounded to multiples of 2^-26
SCORE_BYTES = 8  # scores are float64


def _cuda():
    """torch, when a model run has already imported it and it sees a GPU; else None. Not imported
    here on purpose (seconds of start-up for models that never use torch). Exact by the same
    argument as the CPU path (CUDA's float64 product sums the same integer products), and checked:
    ``benchmarks/gpu_exact.py`` found 29,964,000 scores bit-identical to the CPU's on an H100
    (random, tied integer and 1e-30 / 1e25 vectors; cosine and inner product; several budgets
    and spans)."""
    torch = sys.modules.get("torch")
    return torch if torch is not None and torch.cuda.is_available() else None


def device_name() -> str:
    return "gpu" if _cuda() is not None else "cpu"


def block_rows(n_candidates: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """Rows per block: its float64 scores (plus a byte a score of slack) fit the budget; one row at least."""
    return max(1, int(memory_budget // max(1, n_candidates * (SCORE_BYTES + 1))))


def quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(integer-valued float64 coordinates, per-row exponent e) with v ~= coordinates * 2^(e - 26),
    |coordinates| <= 2^26 and the coordinates' norm below 2^26 (plus half a grid step per
    dimension). A zero row quantises to zeros."""
    wide = np.asarray(vectors, dtype=np.float64)
    _, exponents = np.frexp(np.linalg.norm(wide, axis=1))  # norm = m * 2^e with m in [0.5, 1)
    return np.round(np.ldexp(wide, (GRID_BITS - exponents)[:, None])), exponents


def squared_norms(coords: np.ndarray) -> np.ndarray:
    """Exact squared norms of ``quantise`` coordinates (integers below 2^53 in any summation order)."""
    return np.einsum("ij,ij->i", coords, coords)


def exact_dots(queries: np.ndarray, candidates, device=None) -> np.ndarray:
    """The exact (queries x candidates) dot products of ``quantise`` coordinates, as float64: the
    same bits whatever the blocking, BLAS threads or device. ``device``: ``_cuda()``'s torch, if
    any, with ``candidates`` already a CUDA tensor."""
    if device is not None:
        return (device.from_numpy(queries).to(candidates.device) @ candidates.T).cpu().numpy()
    return queries @ candidates.T


def dot_scores(dots: np.ndarray, q_exponents: np.ndarray, c_exponents: np.ndarray) -> np.ndarray:
    """Inner products from exact dots of coordinates: scaled by powers of two, so still exact."""
    dots *= np.ldexp(1.0, c_exponents - 2 * GRID_BITS)[None, :]
    dots *= np.ldexp(1.0, q_exponents)[:, None]
    return dots


def cosine_scores(dots: np.ndarray, q_squares: np.ndarray, c_squares: np.ndarray) -> np.ndarray:
    """Cosines from exact dots D and exact squared norms N of the coordinates, as
    sign(D) * sqrt((D * D / N_c) / N_q): every step is monotone, so for one query two candidates
    whose exact D^2 / N_c are equal get the same score (one rounding each, from equal exact
    values). With integer vectors (n-gram counts, |D| < 2^26) every true cosine tie is a tie, which
    normalising first and rounding each coordinate would break."""
    _cosines_in_place(dots, np.ascontiguousarray(q_squares, dtype=np.float64), np.ascontiguousarray(c_squares, dtype=np.float64))
    return dots


@njit(cache=True, nogil=True)
def _cosines_in_place(dots, q_squares, c_squares):  # pragma: no cover - compiled
    """One pass over the block, each element through the same IEEE operations in the same order
    as the formula above (no fast-math: correctly rounded division and square root), so the
    result does not depend on how the block was cut."""
    rows, cols = dots.shape
    for i in range(rows):
        for j in range(cols):
            d = dots[i, j]
            value = np.sqrt(((d * d) / c_squares[j]) / q_squares[i])
            dots[i, j] = value if d > 0 else (-value if d < 0 else 0.0)


@njit(cache=True, nogil=True)
def _pair_cosines(dots, q_squares, c_squares):  # pragma: no cover - compiled
    """``_cosines_in_place`` for pairs: element i of each array, the same IEEE operations."""
    for i in range(len(dots)):
        d = dots[i]
        value = np.sqrt(((d * d) / c_squares[i]) / q_squares[i])
        dots[i] = value if d > 0 else (-value if d < 0 else 0.0)
    return dots


PoolScores = Callable[[slice], np.ndarray]


class Scorer(Protocol):
    """Where scores come from. ``block(rows, shard)`` returns a view: ``view(pool)`` gives the
    scores of the query rows ``rows`` against the candidate columns of ``pool`` that lie in
    ``shard`` (a lexical score depends on the pool, a dense one does not, so the pool is named).
    ``pair_scores`` gives single (row, column) pairs: both give the same bits for the same (row,
    column, pool), however the work is cut into rows, shards and pairs.

    Every scorer's scores are inner products, and a result records of what: ``dimension`` is the
    number of coordinates (an embedding's width; a lexical index's vocabulary, the coordinates of
    its term vectors), ``cosine`` whether the vectors are taken normalised (``model.normalized``).
    ``column_bytes``: the memory one candidate column of a shard takes while it is scored (0: the
    scorer holds every candidate anyway, so one shard serves).
    """

    dimension: int
    cosine: bool
    n_candidates: int
    column_bytes: int

    def block(self, rows: np.ndarray, shard: slice) -> PoolScores: ...

    def pair_scores(self, rows: np.ndarray, columns: np.ndarray, pool: slice) -> np.ndarray: ...


class DenseScorer:
    """Embeddings: one exact block of scores against a shard of candidate columns serves every
    pool inside it, since a dense score does not depend on which other candidates are in the pool.
    ``cosine``: score the cosine of the given vectors (best given raw, see ``cosine_scores``),
    else their inner product. ``candidates``: an array, or any matrix that reads rows on demand
    (the embedding cache's chunks, :class:`~benchmark.engine.chunked.ChunkedMatrix`), so a large
    pool is never held whole. Candidates are quantised per shard when first asked for (quantising
    is a function of each row alone, so the bits do not depend on the shard) and the last shard is
    kept (and moved to the GPU, if any). Picklable, without its kept shard, so Ray ships it."""

    def __init__(self, queries: np.ndarray, candidates, model: str = "(unnamed)", cosine: bool = False) -> None:
        self.model, self.queries, self.raw_candidates, self.cosine = model, queries, candidates, cosine
        check_vectors(queries, model, "query", cosine)
        if isinstance(candidates, np.ndarray):
            check_vectors(candidates, model, "passage", cosine)
        self.dimension = int(queries.shape[1])
        self.n_candidates = len(candidates)
        self.column_bytes = 12 * self.dimension  # the float32 rows read and their float64 coordinates
        self.device = _cuda()
        self._span: tuple[tuple[int, int], object, np.ndarray] | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_span": None, "device": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.device = _cuda()

    def _candidates(self, columns: slice) -> tuple[object, np.ndarray]:
        """The quantised candidates of ``columns`` and their scale (squared norms for cosine,
        exponents for inner products)."""
        key = (columns.start, columns.stop)
        if self._span is None or self._span[0] != key:
            self._span = None  # let the previous span go before the next is read and moved to the device
            raw = self.raw_candidates[columns]
            if not isinstance(self.raw_candidates, np.ndarray):
                check_vectors(raw, self.model, "passage", self.cosine)
            coords, exponents = quantise(raw)
            del raw
            scale = squared_norms(coords) if self.cosine else exponents
            self._span = (key, self.device.from_numpy(coords).cuda() if self.device is not None else coords, scale)
        return self._span[1], self._span[2]

    def block(self, rows: np.ndarray, shard: slice) -> PoolScores:
        candidates, c_scale = self._candidates(shard)
        block = self._score(self.queries[rows], candidates, c_scale)

        def view(pool: slice) -> np.ndarray:
            return block[:, max(pool.start, shard.start) - shard.start : min(pool.stop, shard.stop) - shard.start]

        return view

    def pair_scores(self, rows: np.ndarray, columns: np.ndarray, pool: slice | None = None) -> np.ndarray:
        """The score of query row ``rows[i]`` against candidate ``columns[i]``: the same exact
        integer dot product, scaled by the same operations in the same order as a block's."""
        if len(rows) == 0:
            return np.zeros(0)
        unique_rows, row_at = np.unique(np.asarray(rows, dtype=np.int64), return_inverse=True)
        unique_cols, col_at = np.unique(np.asarray(columns, dtype=np.int64), return_inverse=True)
        q_coords, q_exp = quantise(self.queries[unique_rows])
        raw = self.raw_candidates[unique_cols]
        check_vectors(raw, self.model, "passage", self.cosine)
        c_coords, c_exp = quantise(raw)
        dots = np.einsum("ij,ij->i", q_coords[row_at], c_coords[col_at])
        if self.cosine:
            return _pair_cosines(dots, squared_norms(q_coords)[row_at], squared_norms(c_coords)[col_at])
        dots *= np.ldexp(1.0, c_exp - 2 * GRID_BITS)[col_at]
        dots *= np.ldexp(1.0, q_exp)[row_at]
        return dots

    def _score(self, queries: np.ndarray, candidates: object, c_scale: np.ndarray) -> np.ndarray:
        coords, exponents = quantise(queries)
        dots = exact_dots(coords, candidates, self.device)
        if self.cosine:
            return cosine_scores(dots, squared_norms(coords), c_scale)
        return dot_scores(dots, exponents, c_scale)


def check_vectors(vectors: np.ndarray, model: str, role: str, cosine: bool) -> None:
    """Refuse what cannot be scored: a NaN or inf anywhere, or (for cosine) a zero vector."""
    if not np.isfinite(vectors).all():
        raise XbenchError(f"model {model}: {role} vectors contain NaN or inf; nothing can be scored")
    if cosine and not np.asarray(vectors).any(axis=1).all():
        raise XbenchError(f"model {model}: an all-zero {role} vector has no direction; cosine is undefined")
