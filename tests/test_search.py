"""Exact search (benchmark/engine/search.py) on cases small enough to compute by hand; the
blocking arguments of tests/test_determinism.py are taken further here: block boundaries, row
ranges that start mid-matrix, and scale invariance of the scores themselves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.engine.search import DEFAULT_MEMORY_BUDGET, DenseScorer, block_rows, exact_dots, quantise, squared_norms
from benchmark.engine.shards import column_shards


def all_scores(scorer: DenseScorer, rows: tuple[int, int], rows_per_block: int, pool: slice, shard_size: int | None = None) -> np.ndarray:
    """Scores of the row range, asked for in blocks of rows and shards of columns, put together."""
    shard_size = shard_size or scorer.n_candidates
    blocks = []
    for start in range(rows[0], rows[1], rows_per_block):
        row_block = np.arange(start, min(rows[1], start + rows_per_block))
        blocks.append(np.concatenate([scorer.block(row_block, shard)(pool) for shard in column_shards(pool, shard_size)], axis=1))
    return np.concatenate(blocks) if blocks else np.zeros((0, pool.stop - pool.start))


def test_block_rows_fit_the_budget():
    # float64 scores plus a one-byte mask per score: 9 bytes per candidate
    assert block_rows(1000, 9 * 1000 * 20) == 20
    assert block_rows(1000, 9 * 1000 * 20 + 8999) == 20
    assert block_rows(1000, 1) == 1  # never below one row
    assert block_rows(13014) == DEFAULT_MEMORY_BUDGET // (9 * 13014) == 2291  # XQuAD-R's candidates


def test_quantise_by_hand():
    coords, exponents = quantise(np.array([[3, 4], [1, 0], [0.5, 0.25], [0, 0]], dtype=np.float32))
    # norm 5 = 0.625 * 2^3: coordinates times 2^(26 - 3); norm 1 = 0.5 * 2^1: times 2^25
    assert exponents.tolist() == [3, 1, 0, 0]
    assert coords.tolist() == [[3 * 2**23, 4 * 2**23], [2**25, 0], [2**25, 2**24], [0, 0]]
    assert squared_norms(coords).tolist() == [25 * 2**46, 2**50, 5 * 2**48, 0]


def test_a_hand_computed_case():
    queries = np.array([[1, 0], [3, 4], [0.5, 0.25]], dtype=np.float32)
    candidates = np.array([[1, 0], [0, 2], [3, 4], [-6, -8]], dtype=np.float32)
    dot = all_scores(DenseScorer(queries, candidates), (0, 3), DEFAULT_MEMORY_BUDGET, slice(0, 4))
    assert dot.dtype == np.float64
    assert dot.tolist() == [[1, 0, 3, -6], [3, 8, 25, -50], [0.5, 0.5, 2.5, -5]]
    cos = all_scores(DenseScorer(queries, candidates, cosine=True), (0, 3), DEFAULT_MEMORY_BUDGET, slice(0, 4))
    # sign(D) * sqrt((D * D / N_c) / N_q) from the exact integers: one rounding per step
    (q, _), (c, _) = quantise(queries), quantise(candidates)
    expected = [[math.copysign(math.sqrt((d * d / nc) / nq), d) if d else 0.0 for d, nc in zip(row, squared_norms(c))]
                for row, nq in zip(q @ c.T, squared_norms(q))]
    assert cos.tolist() == expected
    assert cos[1].tolist() == [0.6, 0.8, 1.0, -1.0] and cos[0, 1] == 0.0
    third = [2 / 5**0.5, 1 / 5**0.5, 2 / 5**0.5, -2 / 5**0.5]
    assert cos[0].tolist() == [1.0, 0.0, 0.6, -0.6] and cos[2].tolist() == pytest.approx(third, abs=1e-15)


def test_a_block_gives_the_asked_rows_against_any_pool_in_its_shard():
    queries, candidates = np.arange(1, 81, dtype=np.float32).reshape(40, 2), np.eye(2, dtype=np.float32)
    scorer = DenseScorer(queries, candidates)
    # the identity reads coordinates back; a pool is cut to the shard's columns
    view = scorer.block(np.arange(3, 40), slice(0, 2))
    assert view(slice(1, 2)).ravel().tolist() == queries[3:40, 1].tolist()
    assert view(slice(0, 2)).tolist() == queries[3:40].tolist()
    assert scorer.block(np.arange(3, 5), slice(1, 2))(slice(0, 2)).tolist() == queries[3:5, 1:].tolist()


@pytest.mark.parametrize("cosine", [False, True])
def test_exact_dots_do_not_depend_on_block_or_pool(cosine):
    rng = np.random.default_rng(5)
    queries, candidates = rng.standard_normal((50, 24)).astype(np.float32), rng.standard_normal((37, 24)).astype(np.float32)
    scorer = DenseScorer(queries, candidates, cosine=cosine)
    whole = all_scores(scorer, (0, 50), 50, slice(0, 37))
    for height in (1, 17, 49):
        for rows in ((0, 50), (0, 1), (17, 50), (31, 33)):
            for shard_size in (None, 1, 5, 16):
                assert all_scores(scorer, rows, height, slice(0, 37), shard_size).tobytes() == whole[rows[0]:rows[1]].tobytes()
    # a pool's scores are the whole block's columns, and a scorer built on those candidates alone agrees
    part = DenseScorer(queries, candidates[10:20], cosine=cosine)
    assert all_scores(scorer, (0, 50), 1, slice(10, 20)).tobytes() == all_scores(part, (0, 50), 1, slice(0, 10)).tobytes()


@pytest.mark.parametrize("cosine", [False, True])
def test_scores_of_any_row_selection_and_pairs_are_the_blocks_bits(cosine):
    """What the rank correlation asks for (a question's rows in every language, in any order)
    and what the thresholds are made of (single pairs) equal what the main pass's blocks give
    those rows, bit for bit, in any pool."""
    rng = np.random.default_rng(8)
    queries = (rng.standard_normal((40, 24)) * np.exp(rng.uniform(-20, 20, size=(40, 1)))).astype(np.float32)
    candidates = rng.standard_normal((33, 24)).astype(np.float32)
    scorer = DenseScorer(queries, candidates, cosine=cosine)
    for pool in (slice(0, 33), slice(5, 21)):
        whole = all_scores(scorer, (0, 40), 1, pool)
        for rows in (np.array([39, 0, 17, 17, 3]), np.arange(40)[::-1]):
            assert scorer.block(rows, pool)(pool).tobytes() == whole[rows].tobytes()
        rows, cols = rng.integers(0, 40, size=200), rng.integers(pool.start, pool.stop, size=200)
        assert scorer.pair_scores(rows, cols, pool).tobytes() == whole[rows, cols - pool.start].tobytes()


def test_cosine_of_scaled_vectors_is_the_same():
    rng = np.random.default_rng(6)
    queries, candidates = rng.standard_normal((20, 16)).astype(np.float32), rng.standard_normal((30, 16)).astype(np.float32)
    plain = all_scores(DenseScorer(queries, candidates, cosine=True), (0, 20), 1, slice(0, 30))
    # scaling by powers of two moves only the exponents: the same bits
    for q_scale, c_scale in ((2.0**-100, 1.0), (1.0, 2.0**60), (2.0**-70, 2.0**90)):
        scaled = DenseScorer(queries * np.float32(q_scale), candidates * np.float32(c_scale), cosine=True)
        assert all_scores(scaled, (0, 20), 1, slice(0, 30)).tobytes() == plain.tobytes()
    # other factors round the float32 input differently: equal within rounding
    scaled = DenseScorer(queries * np.float32(3), candidates * np.float32(1e-3), cosine=True)
    assert np.abs(all_scores(scaled, (0, 20), 1, slice(0, 30)) - plain).max() < 1e-6
    # integer vectors times other integers: the coordinates stay exact, so the ties stay exactly
    # where they were (the values themselves may differ in the last bit)
    counts = rng.integers(0, 3, size=(20, 6)).astype(np.float32) + np.eye(20, 6, dtype=np.float32)
    whole = all_scores(DenseScorer(counts, counts, cosine=True), (0, 20), 1, slice(0, 20))
    times = all_scores(DenseScorer(counts * 3, counts * 7, cosine=True), (0, 20), 1, slice(0, 20))
    assert np.abs(times - whole).max() < 1e-15
    ties = whole[:, :, None] == whole[:, None, :]
    assert (ties == (times[:, :, None] == times[:, None, :])).all() and ties.sum() > 20 * 20  # ties beyond the diagonal


def test_dot_scores_scale_exactly_by_powers_of_two():
    rng = np.random.default_rng(7)
    queries, candidates = rng.standard_normal((10, 8)).astype(np.float32), rng.standard_normal((12, 8)).astype(np.float32)
    plain = all_scores(DenseScorer(queries, candidates), (0, 10), 1, slice(0, 12))
    scaled = all_scores(DenseScorer(queries * np.float32(2.0**-40), candidates * np.float32(2.0**30)), (0, 10), 1, slice(0, 12))
    assert scaled.tobytes() == (plain * 2.0**-10).tobytes()


def test_exact_dots_where_float32_would_round():
    """Coordinates near 2^24: float64 holds every product and partial sum exactly (-1); float32
    rounds 2^24 + 1 to 2^24 and gets -2^24."""
    q = np.array([[2**24 + 1, 2**24]], dtype=np.float64)
    c = np.array([[2**24 - 1, -(2**24)]], dtype=np.float64)
    assert exact_dots(q, c).tolist() == [[-1.0]]
    assert (q.astype(np.float32) @ c.astype(np.float32).T).tolist() == [[-(2.0**24)]]
    scorer = DenseScorer(q.astype(np.float32), c.astype(np.float32))  # float32 input: 2^24 + 1 is already 2^24
    assert all_scores(scorer, (0, 1), 1, slice(0, 1)).tolist() == [[-(2.0**24)]]
