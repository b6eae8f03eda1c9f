"""Unit tests of result-against-result comparison (benchmark/regression/compare.py) and the
regression verdicts (check.judge), on tiny in-memory results with hand-computed numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark.engine.settings import Setting
from benchmark.errors import UsageError
from benchmark.regression.check import Tolerance, judge
from benchmark.regression.compare import Comparison, compare_task, incomparable
from benchmark.regression.significance import paired_frame
from benchmark.results import TaskResult
from tests.fixtures.tiny_result import tiny_result

MONO_EN = Setting("mono", "en", "en")


def result(seed: int = 0, ap: dict | None = None, edit=None) -> TaskResult:
    doc, frame = tiny_result(seed, ap)
    if edit:
        changed = edit(doc, frame)  # edits the document in place; may return a new frame
        frame = frame if changed is None else changed
    return TaskResult(doc, frame)


def by_label(rows: list[Comparison]) -> dict[str, Comparison]:
    return {r.label: r for r in rows}


def test_identical_results_compare_equal_with_p_one():
    rows = compare_task(result(), result())
    assert [r.label for r in rows[:8]] == ["mono (aggregate)", "cross (aggregate)", "multi (aggregate)", "rank_distance (aggregate)",
                                           "own_share (aggregate)", "english_share (aggregate)", "own_first (aggregate)",
                                           "rank_correlation (aggregate)"]
    assert len(rows) == 8 + 6 and all(r.delta == 0.0 and r.p == 1.0 and r.p_holm == 1.0 for r in rows)


def test_setting_values_and_aggregates_are_hand_computed():
    a = result(ap={("mono", "en", "en"): [1.0, 0.5, 0.0], ("mono", "de", "de"): [1.0, 1.0, 1.0]})
    b = result(ap={("mono", "en", "en"): [1.0, 0.5, 0.5], ("mono", "de", "de"): [0.0, 1.0, 1.0]})
    rows = by_label(compare_task(a, b))
    mono_en = rows["mono en->en"]
    assert (mono_en.a, mono_en.b, mono_en.n) == (0.5, pytest.approx(2 / 3), 3)
    assert mono_en.delta == pytest.approx(1 / 6)
    mono = rows["mono (aggregate)"]  # macro mean of the two mono settings, tested on their 6 pooled queries
    assert mono.a == pytest.approx((0.5 + 1.0) / 2) and mono.b == pytest.approx((2 / 3 + 2 / 3) / 2) and mono.n == 6
    assert rows["cross en->de"].delta == 0.0 and rows["cross en->de"].p == 1.0


def test_holm_adjusts_over_every_row_of_its_family():
    """Two families: the judged metrics (every one a check can gate on), and the descriptive bias
    measures (own and English share, own-language first), so that showing those never weakens
    the gate."""
    a = result(ap={("mono", "en", "en"): [0.9, 0.8, 0.7]})
    b = result(ap={("mono", "en", "en"): [0.1, 0.2, 0.3]})
    rows = compare_task(a, b)
    descriptive = [r for r in rows if r.metric in ("own_share", "english_share", "own_first")]
    judged = [r for r in rows if r not in descriptive]
    assert len(descriptive) == 3 and len(judged) == len(rows) - 3
    for family in (judged, descriptive):
        raw = sorted(r.p for r in family)
        adjusted = sorted(r.p_holm for r in family)
        assert adjusted[0] == pytest.approx(min(1.0, len(family) * raw[0]))
    assert all(r.p_holm >= r.p for r in rows)


def test_to_dict_keeps_the_json_row_shape():
    row = compare_task(result(), result())[4]
    assert list(row.to_dict()) == ["kind", "query_lang", "corpus_lang", "metric", "a", "b", "delta", "n", "test", "p", "p_holm"]
    row.status = "ok"
    assert row.to_dict()["status"] == "ok"
    assert compare_task(result(), result())[0].to_dict()["query_lang"] == ""


@pytest.mark.parametrize("edit, reason", [
    (lambda d, f: d.update(task="other"), "different tasks"),
    (lambda d, f: d.update(candidate_text="sentence+context"), "different candidate text"),
    (lambda d, f: d["data"]["checksums"].update({"tiny/en.json": "f" * 64}), "different data checksums (tiny/en.json)"),
])
def test_incomparable_inputs_are_named(edit, reason):
    assert reason in incomparable(result(), result(edit=edit))
    with pytest.raises(UsageError, match="cannot compare"):
        compare_task(result(), result(edit=edit))


def test_a_setting_or_language_missing_from_the_baseline_is_incomparable():
    def drop_setting(doc, frame):
        doc["settings"] = [s for s in doc["settings"] if Setting.of(s) != MONO_EN]

    assert incomparable(result(edit=drop_setting), result()) == "1 setting(s) of tiny missing from the baseline, e.g. mono en->en"
    assert "language(s) fr of tiny missing" in incomparable(result(), result(edit=lambda d, f: d["languages"].append("fr")))


def test_a_query_the_baseline_lacks_is_refused_and_named():
    def rename(doc, frame):
        frame.loc[0, "query_id"] = "q9"

    with pytest.raises(UsageError, match=r"1 queries missing from the baseline, e.g. 'q9' in mono en->en"):
        compare_task(result(), result(edit=rename))


def test_a_sample_compares_on_the_queries_it_has():
    def keep_two(doc, frame):
        return frame[frame.query_id != "q3"]

    a = result(ap={("mono", "en", "en"): [1.0, 0.0, 0.0]})
    b = result(ap={("mono", "en", "en"): [1.0, 0.0, 1.0]}, edit=keep_two)
    row = by_label(compare_task(a, b))["mono en->en"]
    assert (row.a, row.b, row.n) == (0.5, 0.5, 2)  # recomputed on the shared queries, not the stated mAPs


def test_a_language_subset_leaves_out_the_multilingual_pool():
    def only_en(doc, frame):
        doc["languages"] = ["en"]
        doc["settings"] = [s for s in doc["settings"] if s["query_lang"] == "en" and s["corpus_lang"] in ("en", "all")]
        return frame[(frame.query_lang == "en") & frame.corpus_lang.isin(["en", "all"])]

    labels = [r.label for r in compare_task(result(), result(edit=only_en))]
    assert labels == ["mono (aggregate)", "mono en->en"]


def test_paired_frame_pairs_on_the_setting_and_query_and_lists_the_unmatched():
    a = pd.DataFrame({"kind": ["mono"] * 2, "query_lang": ["en"] * 2, "corpus_lang": ["en"] * 2, "query_id": ["q1", "q2"], "ap": [0.5, 1.0]})
    b = a.assign(ap=[0.25, 0.75])
    b.loc[1, "query_id"] = "q3"
    joined, unmatched = paired_frame(a, b, ("ap",))
    assert joined[["query_id", "ap_a", "ap_b"]].values.tolist() == [["q1", 0.5, 0.25]]
    assert unmatched.query_id.tolist() == ["q3"]


def _row(metric: str, a: float, b: float, p_holm: float) -> Comparison:
    return Comparison("multi" if metric == "map" else metric, None, metric, a, b, 10, p_holm, "student", p_holm)


@pytest.mark.parametrize("metric, a, b, p, status", [
    ("map", 0.50, 0.45, 0.01, "regression"),      # a significant drop beyond the tolerance
    ("map", 0.50, 0.495, 0.01, "ok"),             # within --max-drop
    ("map", 0.50, 0.40, 0.20, "ok"),              # not significant
    ("map", 0.40, 0.50, 0.01, "improvement"),
    ("rank_distance", 100.0, 120.0, 0.01, "regression"),  # lower is better: a rise regresses
    ("rank_distance", 100.0, 105.0, 0.01, "ok"),          # within --max-rank-distance-increase
    ("rank_distance", 120.0, 100.0, 0.01, "improvement"),
])
def test_judge_follows_each_metrics_direction(metric, a, b, p, status):
    (row,) = judge([_row(metric, a, b, p)], Tolerance(max_drop=0.01, max_rank_distance_increase=10.0, alpha=0.05))
    assert row.status == status
    assert np.isclose(row.delta, b - a)


def test_randomization_test_is_deterministic_and_right():
    from benchmark.regression.significance import p_value, randomization_p_value

    a, b = np.array([1.0, 0.0]), np.array([0.0, 0.0])
    assert randomization_p_value(a, b) == 1.0  # every swap keeps |mean difference| = 0.5
    ones = np.ones(4)
    p = randomization_p_value(ones, np.zeros(4), n_permutations=20000)
    assert abs(p - 2 / 16) < 0.01  # only the two swaps that keep all signs equal reach the observed 1.0
    rng = np.random.default_rng(3)
    x, y = rng.random(500), rng.random(500)
    assert len({p_value(x, y, "fisher") for _ in range(5)}) == 1  # ranx's own version drifts between calls
    assert randomization_p_value(x, y, block=7) == randomization_p_value(x, y, block=1000)
