"""The bias measures of the multilingual pool (benchmark/metrics/bias.py, rank_correlation.py,
engine/correlation.py) on hand-made pools whose every answer is worked out below.

Two languages, 7 candidates each: columns e0..e6 = 0..6, d0..d6 = 7..13. Queries: en q1, q2 and
de q1, q3; relevant in the pool: q1 -> e0 and d0 (columns 0, 7), q2 -> e3 (en only), q3 -> d2 (de
only). Scores (rows en q1, en q2, de q1, de q3):

    en q1  9 1 1 5 1 5 5 | 9 9 5 9 5 9 5   five 9s (e0 d0 d1 d3 d5), then six 5s tied for places
                                           6-11: pool order keeps e3 e5 e6 d2 d4 and drops d6, so
                                           own = English share = (1 + 3) / 10 = 0.4 (the reverse
                                           order would give 0.3); own first: e0 = d0 = 9, a tie -> 0
    en q2  3 everywhere                    the first 10 columns: e0..e6, d0..d2: 0.7 and 0.7;
                                           own first undefined (q2 has no other language's answer)
    de q1  2 2 2 2 2 2 2 | 4 4 4 4 4 4 4   seven 4s (de) and e0 e1 e2: own 0.7, English 0.3;
                                           own first: d0 = 4 > e0 = 2 -> 1
    de q3  nan inf -inf 1 1 ... 1          non-finite = -inf: the 11 ones from e3, first 10 by
                                           column e3..e6, d0..d5: own 0.6, English 0.4; own first
                                           undefined (q3 is German only)

Rank correlation: only q1 is held by two languages. Ascending average ranks of en q1: the three 1s
share rank 2, the six 5s 6.5, the five 9s 12; of de q1: the seven 2s 4, the seven 4s 11. Centred
(minus 7.5): en -5.5 / -1 / 4.5, de -3.5 / 3.5. Sum of products: -3.5 x (4.5 - 3 x 5.5 - 3) + 3.5 x
(4 x 4.5 - 3) = 52.5 + 52.5 = 105; sums of squares 3 x 30.25 + 6 + 5 x 20.25 = 198 and 14 x 12.25 =
171.5: rho = 105 / sqrt(198 x 171.5) for both en q1 and de q1; q2 and q3 have none (NaN).

Per language: en own 0.55, English 0.55, own first 0 (q2 has none), rho; de own 0.65, English 0.35,
own first 1, rho. Task values: 0.6, 0.45, 0.5, rho.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import rankdata

from benchmark.engine.corpus import TaskData
from benchmark.engine.correlation import chunks, question_groups
from benchmark.engine.scoring import score_settings
from benchmark.engine.search import DenseScorer
from benchmark.engine.settings import build_index, plan_settings
from benchmark.metrics.aggregate import headline_scores
from benchmark.metrics.bias import own_first, top_columns
from benchmark.metrics.rank_correlation import centred_doubled_ranks, mean_over_others, spearman_matrix
from benchmark.results.build import setting_records
from tests.fixtures.hand_made import language
from tests.test_scoring import MatrixScorer

NAN, INF = float("nan"), float("inf")
SCORES = np.array([
    [9, 1, 1, 5, 1, 5, 5, 9, 9, 5, 9, 5, 9, 5],
    [3] * 14,
    [2] * 7 + [4] * 7,
    [NAN, INF, -INF] + [1] * 11,
], dtype=np.float64)
RHO = 105 / math.sqrt(198 * 171.5)


def two_languages(with_english: bool = True) -> TaskData:
    first = "en" if with_english else "fr"
    parts = [language(first, ["q1", "q2"], 7, {"q1": (0,), "q2": (3,)}), language("de", ["q1", "q3"], 7, {"q1": (0,), "q3": (2,)})]
    return TaskData(languages=(first, "de"), parts={p.part: p for p in parts})


def run(scores=SCORES, data=None, budget=1 << 20, threads=None):
    data = data or two_languages()
    index = build_index(data)
    return score_settings(index, plan_settings(data, index), MatrixScorer(scores), (), budget, threads=threads)


def multi(results):
    return {r.setting.query_lang: r for r in results if r.setting.kind == "multi"}


def test_per_query_values_by_hand():
    en, de = multi(run())["en"], multi(run())["de"]
    assert en.bias["own_share"].tolist() == [0.4, 0.7] and en.bias["english_share"].tolist() == [0.4, 0.7]
    assert de.bias["own_share"].tolist() == [0.7, 0.6] and de.bias["english_share"].tolist() == [0.3, 0.4]
    np.testing.assert_array_equal(en.bias["own_first"], [0.0, NAN])
    np.testing.assert_array_equal(de.bias["own_first"], [1.0, NAN])
    assert en.bias["rank_correlation"][0] == pytest.approx(RHO, abs=1e-15) and math.isnan(en.bias["rank_correlation"][1])
    assert de.bias["rank_correlation"][0] == pytest.approx(RHO, abs=1e-15) and math.isnan(de.bias["rank_correlation"][1])
    assert all(not r.bias for r in run() if r.setting.kind != "multi")


def test_setting_records_and_task_values_leave_undefined_queries_out():
    records = setting_records(run(), ())
    by_lang = {r["query_lang"]: r for r in records if r["kind"] == "multi"}
    assert by_lang["en"]["own_share"] == pytest.approx(0.55) and by_lang["en"]["own_first"] == 0.0
    assert by_lang["de"]["english_share"] == pytest.approx(0.35) and by_lang["de"]["own_first"] == 1.0
    assert by_lang["en"]["rank_correlation"] == pytest.approx(RHO, abs=1e-15)
    assert all("own_share" not in r for r in records if r["kind"] != "multi")
    scores = headline_scores(records)
    assert scores["own_share"] == pytest.approx(0.6) and scores["english_share"] == pytest.approx(0.45)
    assert scores["own_first"] == 0.5 and scores["rank_correlation"] == pytest.approx(RHO, abs=1e-15)


def test_a_tie_at_the_tenth_place_is_broken_by_pool_order():
    assert top_columns(SCORES[:1]).tolist() == [[0, 7, 8, 10, 12, 3, 5, 6, 9, 11]]
    assert top_columns(np.array([[1.0, 2.0, 2.0, 1.0]]), k=2).tolist() == [[1, 2]]
    assert top_columns(np.array([[1.0, 2.0, 2.0, 1.0]]), k=3).tolist() == [[1, 2, 0]]
    # a pool smaller than 10: its whole ranking
    assert top_columns(np.array([[0.5, 0.7, 0.5]], dtype=np.float32)).tolist() == [[1, 0, 2]]


def own_first_of(scores, relevant, langs, lang):
    """own_first as a whole pool's scores give it: the relevant candidates' scores and languages."""
    present = relevant >= 0
    columns = np.where(present, relevant, 0)
    return own_first(np.take_along_axis(scores, columns, axis=1), present, langs[columns] == lang)


def test_non_finite_scores_count_as_the_worst_and_tie_by_column():
    assert top_columns(SCORES[3:]).tolist() == [list(range(3, 13))]
    assert top_columns(np.array([[NAN, -INF, INF, 0.0]]), k=4).tolist() == [[3, 0, 1, 2]]
    # own-language first: a NaN own answer never wins, even against -inf
    langs = np.array([0, 0, 1, 1])
    assert own_first_of(np.array([[NAN, 0.0, -INF, 0.0]]), np.array([[0, 2]]), langs, 0).tolist() == [0.0]
    assert own_first_of(np.array([[INF, 0.0, -5.0, 0.0]]), np.array([[0, 2]]), langs, 1).tolist() == [1.0]


def test_own_first_strictly_greater():
    langs = np.array([0, 0, 1, 2])
    relevant = np.array([[0, 1, 2, 3]])
    assert own_first_of(np.array([[3.0, 5.0, 5.0, 1.0]]), relevant, langs, 0).tolist() == [0.0]  # equal best
    assert own_first_of(np.array([[3.0, 5.0, 4.0, 1.0]]), relevant, langs, 0).tolist() == [1.0]
    assert own_first_of(np.array([[3.0, 5.0, 4.0, 6.0]]), relevant, langs, 0).tolist() == [0.0]
    assert np.isnan(own_first_of(np.array([[3.0, 5.0, 4.0, 6.0]]), np.array([[2, 3, -1, -1]]), langs, 0)).all()  # no own answer
    assert np.isnan(own_first_of(np.array([[3.0, 5.0, 4.0, 6.0]]), np.array([[0, 1, -1, -1]]), langs, 0)).all()  # no other


def test_a_constant_encoder_is_degenerate_not_biased():
    results = multi(run(np.full((4, 14), 0.25)))
    # the top 10 is the pool's first 10 columns; no own answer beats a tie; constant rankings: 0
    assert results["en"].bias["own_share"].tolist() == [0.7, 0.7] and results["de"].bias["own_share"].tolist() == [0.3, 0.3]
    np.testing.assert_array_equal(results["en"].bias["own_first"], [0.0, NAN])
    np.testing.assert_array_equal(results["de"].bias["rank_correlation"], [0.0, NAN])


def test_a_task_without_english_has_no_english_share():
    results = multi(run(data=two_languages(with_english=False)))
    assert np.isnan(results["fr"].bias["english_share"]).all() and results["fr"].bias["own_share"].tolist() == [0.4, 0.7]
    records = setting_records(run(data=two_languages(with_english=False)), ())
    assert {r["english_share"] for r in records if r["kind"] == "multi"} == {None}
    assert headline_scores(records)["english_share"] is None


def test_average_ranks_are_scipys_doubled_and_centred():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(30, 17)).astype(np.float64)
    scores[0] = 1.0  # a constant row
    expected = 2 * rankdata(scores, axis=1, method="average") - 18
    assert centred_doubled_ranks(scores).tolist() == expected.tolist()
    odd = np.array([[NAN, 1.0, INF, -INF, 0.5]])  # non-finite as -inf: three tie for the lowest ranks
    assert centred_doubled_ranks(odd).tolist() == [[-2.0, 4.0, -2.0, -2.0, 2.0]]


def test_spearman_by_hand_and_of_a_constant_ranking():
    # a = 1 2 2 3 -> ranks 1 2.5 2.5 4; b = 4 3 2 1 -> 4 3 2 1: r = -4.5 / sqrt(4.5 x 5) = -3 / sqrt(10)
    ranks = centred_doubled_ranks(np.array([[1.0, 2.0, 2.0, 3.0], [4.0, 3.0, 2.0, 1.0], [7.0, 7.0, 7.0, 7.0]]))
    rho = spearman_matrix(ranks)
    assert rho[0, 1] == rho[1, 0] == pytest.approx(-3 / math.sqrt(10), abs=1e-15)
    assert rho[2].tolist() == [0.0, 0.0, 0.0] and rho[0, 0] == pytest.approx(1.0, abs=1e-15)
    assert mean_over_others(rho).tolist() == pytest.approx([(-3 / math.sqrt(10)) / 2, (-3 / math.sqrt(10)) / 2, 0.0])
    assert np.isnan(mean_over_others(spearman_matrix(ranks[:1]))).all()


def test_questions_are_grouped_across_languages_and_chunked_whole():
    data = two_languages()
    index = build_index(data)
    plans = [p for p in plan_settings(data, index) if p.setting.kind == "multi"]
    groups = question_groups(index, plans)
    assert [g.tolist() for g in groups] == [[0, 2]]  # en q1 and de q1; q2 and q3 stand alone
    sized = [np.arange(3), np.arange(2), np.arange(4)]
    assert [[len(g) for g in c] for c in chunks(sized, 10, 5 * 10 * 16)] == [[3, 2], [4]]
    assert [[len(g) for g in c] for c in chunks(sized, 10, 1)] == [[3], [2], [4]]  # one question at least


@pytest.mark.parametrize("cosine", [False, True])
def test_memory_budget_and_threads_do_not_change_a_bit(cosine):
    """A real scorer on 3 languages with coarse vectors (ties): a one-question budget against one
    that holds everything, one thread against four."""
    from tests.test_scoring import random_task

    data, _ = random_task(2)
    index = build_index(data)
    rng = np.random.default_rng(5)
    queries = rng.integers(-2, 3, size=(data.n_queries, 6)).astype(np.float32)
    candidates = rng.integers(-2, 3, size=(data.n_candidates, 6)).astype(np.float32)
    queries[queries.sum(axis=1) == 0, 0] = 1
    candidates[~candidates.any(axis=1), 0] = 1

    def bias(budget, threads):
        results = score_settings(index, plan_settings(data, index), DenseScorer(queries, candidates, cosine=cosine), (), budget, threads=threads)
        return [{k: v.tobytes() for k, v in r.bias.items()} for r in results]

    whole = bias(1 << 30, 1)
    assert bias(1, 4) == whole and bias(1000, 2) == whole
    assert any(b and not np.isnan(np.frombuffer(b["rank_correlation"])).all() for b in whole)
