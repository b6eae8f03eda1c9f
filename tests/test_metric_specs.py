"""Metrics declare their direction, unit, kinds and aggregation; checks and aggregates ask them."""

from __future__ import annotations

import pytest

from benchmark.errors import XbenchError
from benchmark.metrics import METRICS, check_metric_names, metric_spec
from benchmark.metrics.aggregate import headline_scores
from benchmark.regression.check import Tolerance, judge
from benchmark.regression.compare import Comparison


def row(kind: str, delta: float, p_holm: float = 0.001) -> Comparison:
    """An aggregate row: a kind's compares AP, rank distance's compares rank distance."""
    return Comparison(kind, None, "rank_distance" if kind == "rank_distance" else "map", 0.5, 0.5 + delta, 100, p_holm, "student", p_holm)


def status(kind: str, delta: float, p_holm: float = 0.001, tol: Tolerance = Tolerance()) -> str:
    return judge([row(kind, delta, p_holm)], tol)[0].status


def test_specs_declare_direction_unit_and_kinds():
    ap, rd, ndcg = metric_spec("map"), metric_spec("rank_distance"), metric_spec("ndcg@10")
    assert ap.higher_is_better and ap.unit == "score" and ap.column == "ap" and ap.applies_to("mono")
    assert not rd.higher_is_better and rd.unit == "ranks" and rd.applies_to("multi") and not rd.applies_to("cross")
    assert ndcg.name == ndcg.column == "ndcg@10" and ndcg.higher_is_better and ndcg.applies_to("cross")
    assert rd.gain(3.0) == -3.0 and ap.gain(0.1) == 0.1


@pytest.mark.parametrize("name", ["ndcg@0", "ndcg@x", "ndcg@k", "bleu", "map@", "recall@-1"])
def test_unknown_metric_names(name):
    with pytest.raises(XbenchError, match=rf"^unknown metric '{name}'; available: map, accuracy, rank_distance, own_share, english_share, own_first, rank_correlation, ndcg@k, recall@k"):
        check_metric_names(["map", name])


def test_parametric_names_are_looked_up_by_family():
    check_metric_names(["map", "rank_distance", "ndcg@10", "recall@100", "mrr@10", "map@100", "hit_rate@1", "precision@5", "f1@10",
                        "ndcg_burges@10", "accuracy"])
    assert "ndcg@k" in METRICS.names() and "ndcg@10" not in METRICS.names()


def test_a_rank_distance_rise_is_a_regression():
    """Rank distance: lower is better, its tolerance in ranks (the spec, not a rule in check)."""
    assert status("rank_distance", 12.0) == "regression"
    assert status("rank_distance", -12.0) == "improvement"
    assert status("rank_distance", 8.0) == "ok"  # within max_rank_distance_increase
    assert status("rank_distance", 12.0, p_holm=0.2) == "ok"  # not significant
    assert status("rank_distance", 12.0, tol=Tolerance(max_rank_distance_increase=20.0)) == "ok"


def test_an_ap_drop_is_a_regression():
    for kind in ("mono", "cross", "multi"):  # a kind's aggregate row and a setting row both compare AP
        assert status(kind, -0.05) == "regression"
        assert status(kind, 0.05) == "improvement"
        assert status(kind, -0.005) == "ok"
        assert status(kind, 5.0) == "improvement"  # AP's tolerance is max_drop, never the rank one


BIAS_NONE = {"own_share": None, "english_share": None, "own_first": None, "rank_correlation": None}


def test_headline_scores_follow_the_specs():
    records = [{"kind": "mono", "map": 0.5}, {"kind": "mono", "map": 0.25}, {"kind": "cross", "map": 0.1},
               {"kind": "multi", "map": 0.2, "rank_distance": 4.0}, {"kind": "multi", "map": 0.4, "rank_distance": 2.0}]
    # records without the bias measures (a result written before them): those scores are None
    assert headline_scores(records) == {"mono": 0.375, "cross": 0.1, "multi": pytest.approx(0.3), "rank_distance": 3.0, **BIAS_NONE}
    assert list(headline_scores(records)) == ["mono", "cross", "multi", "rank_distance", *BIAS_NONE]
    assert metric_spec("rank_distance").aggregate(records) == 3.0
    assert headline_scores(records[:2])["rank_distance"] is None


def test_bias_scores_are_macro_means_over_the_languages_that_have_one():
    records = [{"kind": "cross", "map": 0.1},
               {"kind": "multi", "map": 0.2, "rank_distance": 4.0, "own_share": 0.5, "english_share": None, "own_first": 1.0, "rank_correlation": -0.5},
               {"kind": "multi", "map": 0.4, "rank_distance": 2.0, "own_share": 0.25, "english_share": None, "own_first": None, "rank_correlation": 0.25}]
    scores = headline_scores(records)
    assert {k: scores[k] for k in BIAS_NONE} == {"own_share": 0.375, "english_share": None, "own_first": 1.0, "rank_correlation": -0.125}


def test_descriptive_measures_have_no_direction():
    for name in ("own_share", "english_share", "own_first"):
        spec = metric_spec(name)
        assert spec.higher_is_better is None and not spec.judged and spec.gain(0.5) is None and spec.kinds == ("multi",)
    rho = metric_spec("rank_correlation")
    assert rho.judged and rho.gain(-0.1) == -0.1 and rho.bounds == (-1.0, 1.0) and rho.partial
    assert metric_spec("own_share").bounds == (0.0, 1.0) and not metric_spec("own_share").partial
    assert metric_spec("own_first").outcome == "binary"
