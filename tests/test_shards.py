"""Shards of a pool: the counts and top lists the sharded scoring reduces, by hand and against the
whole pool held at once."""

import numpy as np
import pytest

from benchmark.engine import correlation
from benchmark.engine.shards import column_shards, default_shard_size
from benchmark.metrics.ranking import TopList, count_at_least, rank_block, ranks_from, thresholds_of
from tests.test_scoring import SCORES, score


def test_shards_fall_on_multiples_of_their_size():
    assert column_shards(slice(0, 10), 4) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert column_shards(slice(5, 13), 4) == [slice(5, 8), slice(8, 12), slice(12, 13)]
    assert column_shards(slice(3, 3), 4) == []
    with pytest.raises(ValueError):
        column_shards(slice(0, 3), 0)


def test_default_shard_size_is_half_the_budget():
    assert default_shard_size(1 << 20, 0, 5_000_000) == 5_000_000  # a scorer that holds everything: one shard
    assert default_shard_size(256 << 20, 12 * 384, 13_014) == 13_014  # XQuAD-R fits
    assert default_shard_size(256 << 20, 12 * 384, 4_000_000) == (128 << 20) // (12 * 384) == 29_127
    assert default_shard_size(1, 12 * 384, 4_000_000) == 1024  # never below MIN_SHARD


def test_counts_by_hand():
    # thresholds 2 and 1 (best first): 3 candidates reach 2 (3, 2, 2), all 4 reach 1; NaN pads
    counts = np.zeros((1, 3), dtype=np.int64)
    count_at_least(np.array([[3.0, 1.0, 2.0, 2.0]]), np.array([[2.0, 1.0, np.nan]]), counts)
    assert counts.tolist() == [[3, 4, 0]]
    # summed over two shards: the same
    halves = np.zeros((1, 3), dtype=np.int64)
    count_at_least(np.array([[3.0, 1.0]]), np.array([[2.0, 1.0, np.nan]]), halves)
    count_at_least(np.array([[2.0, 2.0]]), np.array([[2.0, 1.0, np.nan]]), halves)
    assert halves.tolist() == counts.tolist()
    # relevant at columns 2 and 1 (scores 2 and 1): rank 3 - 1 + 1 = 3 (the 3 and the tied 2 go
    # first, pessimistically), and 4 - 2 + 2 = 4
    values = np.array([[2.0, 1.0, 0.0]])
    thresholds = thresholds_of(values, np.array([[True, True, False]]))
    assert ranks_from(counts, thresholds).tolist() == [[3, 4, 0]]
    assert rank_block(np.array([[3.0, 1.0, 2.0, 2.0]]), np.array([[2, 1]]), 2)[0].tolist() == [[3, 4]]


def test_non_finite_scores_are_the_worst():
    counts = np.zeros((1, 1), dtype=np.int64)
    count_at_least(np.array([[np.nan, np.inf, -np.inf, 0.0]]), thresholds_of(np.array([[np.nan]]), np.array([[True]])), counts)
    assert counts.tolist() == [[4]]  # a NaN relevant score is -inf: everything reaches it


def test_top_list_by_hand():
    # ties: non-relevant before relevant, then by column
    top = TopList.empty(1, 3)
    top.insert(np.array([[1.0, 2.0, 2.0, 2.0]]), 10, np.array([[11, -1]]))
    assert top.cols.tolist() == [[12, 13, 11]] and top.vals.tolist() == [[2.0, 2.0, 2.0]] and top.rels.tolist() == [[0, 0, 1]]
    # without relevance: pool order
    plain = TopList.empty(1, 3)
    plain.insert(np.array([[1.0, 2.0, 2.0, 2.0]]), 10)
    assert plain.cols.tolist() == [[11, 12, 13]]
    # fewer candidates than slots: padding stays last
    small = TopList.empty(1, 3)
    small.insert(np.array([[0.5]]), 0)
    assert small.sizes.tolist() == [1] and small.cols[0, 0] == 0 and small.rels[0, 1:].tolist() == [2, 2]


@pytest.mark.parametrize("seed", range(4))
def test_shards_merge_to_the_whole_pool(seed):
    """Coarse integer scores (ties everywhere), any cut, any order of merging: the same ranks and
    the same top list as the whole pool in one piece."""
    rng = np.random.default_rng(seed)
    n, pool, k = 30, 57, 10
    scores = rng.integers(0, 4, size=(n, pool)).astype(np.float64)
    scores[rng.random((n, pool)) < 0.02] = np.nan
    relevant = np.where(rng.random((n, 3)) < 0.8, rng.integers(0, pool, size=(n, 3)), -1)
    relevant = np.array([sorted(set(r) - {-1}) + [-1] * (3 - len(set(r) - {-1})) for r in relevant.tolist()])
    ranks, cols, vals = rank_block(scores, relevant, k)
    present = relevant >= 0
    thresholds = thresholds_of(np.take_along_axis(scores, np.where(present, relevant, 0), axis=1), present)
    for size in (1, 7, 20):
        cuts = column_shards(slice(0, pool), size)
        counts = np.zeros(thresholds.shape, dtype=np.int64)
        lists = []
        for shard in cuts:
            count_at_least(scores[:, shard], thresholds, counts)
            part = TopList.empty(n, k)
            part.insert(scores[:, shard], shard.start, relevant)
            lists.append(part)
        merged = lists[0]
        for part in reversed(lists[1:]):  # any order
            merged = part.merge(merged)
        assert ranks_from(counts, thresholds).tolist() == ranks.tolist()
        assert merged.cols.tolist() == cols.tolist() and merged.vals.tolist() == vals.tolist()


def test_rank_correlation_is_not_computed_beyond_exact_sums(monkeypatch):
    whole = score(SCORES)
    assert any(np.isfinite(r.bias.get("rank_correlation", [np.nan])).any() for r in whole)
    monkeypatch.setattr(correlation, "MAX_POOL", SCORES.shape[1] - 1)
    limited = score(SCORES)
    assert all(np.isnan(r.bias["rank_correlation"]).all() for r in limited if "rank_correlation" in r.bias)
    assert [r.ap.tolist() for r in limited] == [r.ap.tolist() for r in whole]
