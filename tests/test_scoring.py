"""Scoring every setting from one pass over the scores (benchmark/engine/scoring.py), with a fake
scorer that serves a hand-written score matrix over the hand-made task of
tests/fixtures/hand_made.py: AP, rank distance and cutoff metrics of every query by hand, ties
ranked pessimistically, and the same bits whatever the block height or the thread count."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

from benchmark.engine.corpus import TaskData
from benchmark.engine.scoring import score_settings
from benchmark.engine.settings import build_index, plan_settings
from tests.fixtures.hand_made import language, three_languages

#                 en q1..q3 x  e0 e1 e2 | d0 d1 | f0 f1 f2
SCORES = np.array([
    [5, 3, 3, 1, 5, 0, 2, 5],  # en q1: e0 and d1 relevant, tied with f2 in the multilingual pool
    [4, 4, 2, 3, 1, 6, 0, 0],  # en q2: e1 ties with e0 in English
    [1, 1, 1, 7, 7, 7, 7, 7],  # en q3: constant over English, last of all in the pool
    [2, 0, 0, 2, 1, 0, 0, 0],  # de q1
    [0, 9, 8, 7, 0, 0, 0, 0],  # de q2: every answer first
    [3, 3, 3, 3, 3, 3, 3, 3],  # fr q4: a constant encoder
], dtype=np.float64)

# Pessimistic ranks of the relevant candidates (a tied non-relevant one ranks ahead), per setting
# and query, and the AP they give: mean over the answers of (answers seen so far / rank).
RANKS = {
    "en->en": [[1], [2, 3], [3]],
    "en->de": [[1], [1]],
    "en->all": [[2, 3], [3, 4, 5], [8]],
    "de->de": [[2], [1]],
    "de->en": [[1], [1, 2]],
    "de->all": [[2, 3], [1, 2, 3]],
    "fr->fr": [[2, 3]],
    "fr->all": [[7, 8]],
}
AP = {
    "en->en": [1, F(7, 12), F(1, 3)],
    "en->de": [1, 1],
    "en->all": [F(7, 12), F(43, 90), F(1, 8)],
    "de->de": [F(1, 2), 1],
    "de->en": [1, 1],
    "de->all": [F(7, 12), 1],
    "fr->fr": [F(7, 12)],
    "fr->all": [F(11, 56)],
}
RANK_DISTANCE = {"en->all": [1, 2, 0], "de->all": [1, 2], "fr->all": [1]}
QUERY_IDS = {
    "en->en": ["q1", "q2", "q3"], "en->de": ["q1", "q2"], "en->all": ["q1", "q2", "q3"],
    "de->de": ["q1", "q2"], "de->en": ["q1", "q2"], "de->all": ["q1", "q2"],
    "fr->fr": ["q4"], "fr->all": ["q4"],
}
CUTOFFS = ("mrr@3", "recall@2")


class MatrixScorer:
    """A Scorer over a fixed matrix, with a log of the (row range, shard) blocks asked for."""

    column_bytes = 8

    def __init__(self, scores: np.ndarray) -> None:
        self.matrix = scores
        self.n_candidates = scores.shape[1]
        self.asked: list[tuple[int, int]] = []
        self.shards: list[tuple[int, int]] = []

    def block(self, rows, shard):
        self.asked.append((int(rows[0]), int(rows[-1]) + 1))
        self.shards.append((shard.start, shard.stop))
        block = self.matrix[np.asarray(rows)][:, shard].copy()
        return lambda pool: block[:, max(pool.start, shard.start) - shard.start : min(pool.stop, shard.stop) - shard.start]

    def pair_scores(self, rows, columns, pool):
        return self.matrix[np.asarray(rows), np.asarray(columns)]


def score(scores=SCORES, data=None, budget=1 << 20, threads=None, cutoffs=CUTOFFS, scorer=None, shard_size=None):
    data = data or three_languages()
    index = build_index(data)
    plans = plan_settings(data, index)
    return score_settings(index, plans, scorer or MatrixScorer(scores), cutoffs, budget, threads=threads, shard_size=shard_size)


def by_label(results):
    return {f"{r.setting.query_lang}->{r.setting.corpus_lang}": r for r in results}


def test_ap_per_query_by_hand():
    results = by_label(score())
    assert list(results) == list(AP)
    for label, expected in AP.items():
        r = results[label]
        assert r.query_ids == QUERY_IDS[label]
        assert r.ap.dtype == np.float64
        assert r.ap.tolist() == pytest.approx([float(v) for v in expected], abs=1e-15), label
        assert r.n_relevant.tolist() == [len(ranks) for ranks in RANKS[label]], label
    assert results["en->en"].map == pytest.approx(float((1 + F(7, 12) + F(1, 3)) / 3), abs=1e-15)


def test_rank_distance_only_on_multi():
    results = by_label(score())
    for label, r in results.items():
        if r.setting.kind == "multi":
            assert r.rank_distance.tolist() == RANK_DISTANCE[label], label
        else:
            assert r.rank_distance is None, label


def test_cutoff_metrics_read_the_same_pessimistic_ranking():
    """MRR@3 and Recall@2 from the hand ranks: 1 / best rank if within 3, answers within 2 / answers."""
    results = by_label(score())
    for label, ranks in RANKS.items():
        mrr = [1 / min(r) if min(r) <= 3 else 0.0 for r in ranks]
        recall = [sum(x <= 2 for x in r) / len(r) for r in ranks]
        assert results[label].cutoff["mrr@3"].tolist() == pytest.approx(mrr, abs=1e-15), label
        assert results[label].cutoff["recall@2"].tolist() == pytest.approx(recall, abs=1e-15), label
    # spelled out where ties decide: en q1 in the pool ranks 2, 3 behind the tied f2; en q3 is 8th
    assert results["en->all"].cutoff["mrr@3"].tolist() == pytest.approx([1 / 2, 1 / 3, 0.0])
    assert results["fr->fr"].cutoff["recall@2"].tolist() == [0.5]


def test_no_cutoff_metrics_asked():
    results = score(cutoffs=())
    assert all(r.cutoff == {} for r in results)
    assert [r.ap.tolist() for r in results] == [r.ap.tolist() for r in score()]


def test_each_language_block_is_scored_once():
    scorer = MatrixScorer(SCORES)
    score(scorer=scorer)
    assert scorer.asked[:3] == [(0, 3), (3, 5), (5, 6)]  # then the rank correlation's own pass
    assert set(scorer.shards) == {(0, SCORES.shape[1])}


def test_shards_are_cut_at_multiples_of_their_size():
    scorer = MatrixScorer(SCORES)
    score(scorer=scorer, shard_size=3, cutoffs=())
    assert set(scorer.shards) == {(c, min(c + 3, SCORES.shape[1])) for c in range(0, SCORES.shape[1], 3)}


def same_bits(a, b):
    assert [r.setting for r in a] == [r.setting for r in b]
    for x, y in zip(a, b):
        assert x.query_ids == y.query_ids
        assert x.ap.tobytes() == y.ap.tobytes() and x.n_relevant.tobytes() == y.n_relevant.tobytes()
        assert (x.rank_distance is None) == (y.rank_distance is None)
        if x.rank_distance is not None:
            assert x.rank_distance.tobytes() == y.rank_distance.tobytes()
        assert x.cutoff.keys() == y.cutoff.keys()
        assert all(x.cutoff[k].tobytes() == y.cutoff[k].tobytes() for k in x.cutoff)
        assert x.bias.keys() == y.bias.keys()
        assert all(x.bias[k].tobytes() == y.bias[k].tobytes() for k in x.bias)


def random_task(seed: int) -> tuple[TaskData, np.ndarray]:
    """Three languages of 20-40 queries, partial answers, and coarse scores (ties everywhere)."""
    rng = np.random.default_rng(seed)
    ids = [f"q{i}" for i in range(40)]
    parts = []
    for lang in ("en", "de", "fr"):
        n_candidates = int(rng.integers(15, 30))
        answered = sorted(rng.choice(40, size=int(rng.integers(20, 40)), replace=False).tolist())
        answers = {ids[i]: tuple(sorted(rng.choice(n_candidates, size=int(rng.integers(1, 3)), replace=False).tolist())) for i in answered}
        parts.append(language(lang, [ids[i] for i in answered], n_candidates, answers))
    data = TaskData(languages=("en", "de", "fr"), parts={p.part: p for p in parts})
    return data, rng.integers(0, 5, size=(data.n_queries, data.n_candidates)).astype(np.float64)


@pytest.mark.parametrize("seed", [0, 1])
def test_block_height_and_shard_size_do_not_change_a_bit(seed):
    data, scores = random_task(seed)
    whole = score(scores, data, budget=1 << 20, cutoffs=("ndcg@10", "mrr@5", "recall@3"))
    for budget in (1, 2 * 9 * 40 * 7):  # one-row blocks; blocks that straddle settings' query rows
        for shard_size in (None, 1, 4, 7):  # the pool in one shard; one column a shard; shards across parts
            same_bits(score(scores, data, budget=budget, cutoffs=("ndcg@10", "mrr@5", "recall@3"), shard_size=shard_size), whole)
    same_bits(score(budget=1, shard_size=2), score())


@pytest.mark.parametrize("seed", [0, 1])
def test_thread_count_does_not_change_a_bit(seed):
    data, scores = random_task(seed)
    one = score(scores, data, threads=1, budget=5, cutoffs=("ndcg@10", "mrr@5"))
    same_bits(score(scores, data, threads=4, budget=5, cutoffs=("ndcg@10", "mrr@5")), one)
    same_bits(score(threads=4), score(threads=1))


def test_timings_are_added_to():
    data = three_languages()
    index = build_index(data)
    timings = {"search": 1.0}
    score_settings(index, plan_settings(data, index), MatrixScorer(SCORES), CUTOFFS, 1, timings=timings)
    assert set(timings) == {"search", "scoring", "rank_correlation"}
    assert timings["search"] >= 1.0 and timings["scoring"] >= 0.0 and timings["rank_correlation"] >= 0.0
