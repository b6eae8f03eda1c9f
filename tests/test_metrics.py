"""Every metric against answers computed by hand, ties and degenerate encoders included."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.metrics.aggregate import headline_scores
from benchmark.metrics.average_precision import average_precision
from benchmark.metrics.cutoff import depth_of, qrels_rows, ranx_metrics, run_rows
from benchmark.metrics.rank_distance import rank_distance
from benchmark.metrics.ranking import rank_block


def pessimistic_ranks(scores, relevant):
    """The ranks alone (no top k), as the scorer gets them from the kernel."""
    return rank_block(scores, relevant, 0)[0]


def pessimistic_top_k(scores, relevant, k):
    """ranx run rows of the kernel's top k, as the scorer builds them."""
    _, cols, top = rank_block(scores, relevant, k)
    return run_rows(cols, top)


def cutoff_metrics(scores, relevant, metrics):
    """Per-query cutoff metrics of one block, from the same pieces engine/scoring.py composes."""
    return ranx_metrics(qrels_rows(relevant), pessimistic_top_k(scores, relevant, depth_of(metrics)), metrics)


def ranks_of(scores, relevant):
    return pessimistic_ranks(np.asarray([scores], dtype=np.float32), np.asarray([relevant]))[0]


def ap_of(scores, relevant):
    return average_precision(pessimistic_ranks(np.asarray([scores], dtype=np.float32), np.asarray([relevant])))[0]


def test_ap_without_ties():
    # relevant at ranks 2 and 4: (1/2 + 2/4) / 2
    assert list(ranks_of([0.9, 0.8, 0.7, 0.6], [1, 3])) == [2, 4]
    assert ap_of([0.9, 0.8, 0.7, 0.6], [1, 3]) == pytest.approx(0.5)
    # relevant first: 1.0; relevant order in the input does not matter
    assert ap_of([0.9, 0.1], [0]) == 1.0
    assert ap_of([0.1, 0.2, 0.9, 0.8], [3, 2]) == 1.0


def test_tied_non_relevant_ranks_ahead():
    # the relevant candidate ties with one non-relevant: pessimistic rank 2, whichever column comes first
    assert ap_of([0.5, 0.5, 0.1], [1]) == pytest.approx(1 / 2)
    assert ap_of([0.5, 0.5, 0.1], [0]) == pytest.approx(1 / 2)
    # tie with a non-relevant *below* a better non-relevant: 0.9 > 0.5 (nonrel) = 0.5 (rel) -> rank 3
    assert list(ranks_of([0.5, 0.9, 0.5], [2])) == [3]


def test_two_relevant_tied_with_one_non_relevant():
    # all three tie: the non-relevant goes first, the relevant ones take ranks 2 and 3: (1/2 + 2/3) / 2
    assert list(ranks_of([0.5, 0.5, 0.5], [0, 2])) == [2, 3]
    assert ap_of([0.5, 0.5, 0.5], [0, 2]) == pytest.approx(7 / 12)
    # relevant tied only with each other: ranks 1, 2 -> AP 1
    assert ap_of([0.7, 0.7, 0.1], [0, 1]) == 1.0


def test_constant_encoder_scores_at_the_bottom():
    # P = 10, one relevant: it ranks last -> 1/10; two relevant: ranks 9, 10 -> (1/9 + 2/10) / 2
    assert ap_of([1.0] * 10, [4]) == pytest.approx(0.1)
    assert ap_of([1.0] * 10, [0, 9]) == pytest.approx((1 / 9 + 2 / 10) / 2)
    assert ap_of([0.0] * 10, [3]) < 1.0


def test_padding_and_mixed_rows():
    scores = np.asarray([[0.9, 0.8, 0.7], [0.1, 0.2, 0.3]], dtype=np.float32)
    relevant = np.asarray([[1, -1], [0, 2]])
    ranks = pessimistic_ranks(scores, relevant)
    assert ranks.tolist() == [[2, 0], [1, 3]]
    assert average_precision(ranks).tolist() == pytest.approx([1 / 2, (1 / 1 + 2 / 3) / 2])
    # a query with no relevant candidate at all scores 0, not NaN
    assert average_precision(np.zeros((1, 2), dtype=np.int64)).tolist() == [0.0]


def test_rank_distance():
    assert rank_distance(np.asarray([[2, 4, 0]])).tolist() == [2.0]
    assert rank_distance(np.asarray([[7, 0, 0]])).tolist() == [0.0]
    # constant encoder, 3 relevant in a pool of 10: ranks 8, 9, 10 -> distance 2
    ranks = pessimistic_ranks(np.ones((1, 10), dtype=np.float32), np.asarray([[1, 5, 7]]))
    assert ranks.tolist() == [[8, 9, 10]]
    assert rank_distance(ranks).tolist() == [2.0]


def test_top_k_breaks_ties_pessimistically():
    scores = np.asarray([[0.5, 0.5, 0.5, 0.5, 0.5]], dtype=np.float32)
    run = pessimistic_top_k(scores, np.asarray([[0]]), 3)
    assert 0.0 not in run[0, :, 0]  # the relevant one is 5th of 5, outside the top 3
    values = cutoff_metrics(scores, np.asarray([[0]]), ("mrr@3", "recall@3", "mrr@5"))
    assert values["mrr@3"][0] == 0.0 and values["recall@3"][0] == 0.0
    assert values["mrr@5"][0] == pytest.approx(1 / 5)


def test_cutoff_metrics_by_hand():
    # relevant at ranks 2 and 4 of 4
    scores = np.asarray([[0.9, 0.8, 0.7, 0.6]], dtype=np.float32)
    rel = np.asarray([[1, 3]])
    v = cutoff_metrics(scores, rel, ("ndcg@10", "recall@2", "mrr@10", "map@2", "map@100"))
    ideal = 1 + 1 / np.log2(3)
    assert v["ndcg@10"][0] == pytest.approx((1 / np.log2(3) + 1 / np.log2(5)) / ideal)
    assert v["recall@2"][0] == pytest.approx(0.5)
    assert v["mrr@10"][0] == pytest.approx(0.5)
    assert v["map@2"][0] == pytest.approx((1 / 2) / 2)  # ranx divides by all relevant
    assert v["map@100"][0] == pytest.approx(0.5)


def test_ranx_map_over_full_ranking_equals_engine_ap():
    """Where both apply (full ranking, k = pool), ranx's mAP and the engine's AP agree, ties included."""
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 6, size=(200, 40)).astype(np.float32)  # coarse scores: many ties
    relevant = np.full((200, 3), -1)
    for i in range(200):
        picked = rng.choice(40, size=rng.integers(1, 4), replace=False)
        relevant[i, : len(picked)] = picked
    ours = average_precision(pessimistic_ranks(scores, relevant))
    run = pessimistic_top_k(scores, relevant, 40)
    theirs = ranx_metrics(qrels_rows(relevant), run, ("map",))["map"]
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-12)


def test_headline_scores_are_macro_means():
    settings = [
        {"kind": "mono", "map": 0.5},
        {"kind": "mono", "map": 0.7},
        {"kind": "cross", "map": 0.2},
        {"kind": "multi", "map": 0.3, "rank_distance": 10.0},
        {"kind": "multi", "map": 0.1, "rank_distance": 20.0},
    ]
    assert headline_scores(settings) == pytest.approx({"mono": 0.6, "cross": 0.2, "multi": 0.2, "rank_distance": 15.0, "own_share": None,
                                                       "english_share": None, "own_first": None, "rank_correlation": None})


def test_ranking_kernel_matches_a_brute_force_sort():
    """Ranks and top k against a full lexsort by (score desc, relevant last), ties everywhere."""
    from benchmark.metrics.ranking import rank_block

    rng = np.random.default_rng(3)
    for trial in range(60):
        n, pool, width = int(rng.integers(1, 6)), int(rng.integers(1, 40)), int(rng.integers(1, 5))
        k = int(rng.integers(1, 12))
        scores = rng.integers(0, 4, size=(n, pool)).astype(np.float32) / 2
        relevant = np.full((n, width), -1)
        for i in range(n):
            picked = rng.choice(pool, size=min(pool, int(rng.integers(0, width + 1))), replace=False)
            relevant[i, : len(picked)] = picked
        ranks, cols, top = rank_block(scores, relevant, k)
        for i in range(n):
            rel = set(relevant[i][relevant[i] >= 0].tolist())
            is_rel = np.array([c in rel for c in range(pool)])
            order = np.lexsort((is_rel, -scores[i].astype(np.float64)))
            expected_ranks = sorted(int(np.flatnonzero(order == c)[0]) + 1 for c in rel)
            assert ranks[i][ranks[i] > 0].tolist() == expected_ranks, (trial, i)
            depth = min(k, pool)
            assert top[i].tolist() == scores[i][order[:depth]].tolist()
            assert [c in rel for c in cols[i]] == is_rel[order[:depth]].tolist()
            assert all(scores[i][c] == s for c, s in zip(cols[i], top[i]))
