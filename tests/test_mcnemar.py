"""Binary outcomes in ``xbench compare`` and ``xbench check``: per-query accuracy is 0 or 1, so it
is tested by McNemar's exact test (hand-computed p-values below), while mAP keeps the configured
test; the reports name the test of every row."""

from __future__ import annotations

import json
from fractions import Fraction
from math import comb

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.errors import UsageError, XbenchError
from benchmark.metrics import metric_spec
from benchmark.regression.check import Tolerance, check_task, junit_xml, markdown_summary, report_json
from benchmark.regression.compare import compare_task, measured
from benchmark.regression.significance import MCNEMAR, mcnemar_exact_p_value, p_value, chosen_test
from benchmark.regression.views import check_view, compare_view
from benchmark.results import TaskResult
from benchmark.results.io import write_document
from tests.fixtures.tiny_result import tiny_result
from tests.paths import SHARED_TATOEBA

N = 40  # queries per setting
SETTINGS = [("cross", "kab", "eng"), ("cross", "eng", "kab"), ("cross", "bre", "eng"), ("cross", "eng", "bre")]


def pairs(right_a_only: int, right_b_only: int, both: int = 0, neither: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Paired 0/1 outcomes with the given counts of each kind of pair."""
    a = [1.0] * right_a_only + [0.0] * right_b_only + [1.0] * both + [0.0] * neither
    b = [0.0] * right_a_only + [1.0] * right_b_only + [1.0] * both + [0.0] * neither
    return np.array(a), np.array(b)


def exact(small: int, n: int) -> float:
    """min(1, 2 P[X <= small]), X ~ Binomial(n, 1/2), in exact rational arithmetic."""
    return float(min(Fraction(1), 2 * Fraction(sum(comb(n, i) for i in range(small + 1)), 2 ** n)))


@pytest.mark.parametrize("right_a_only, right_b_only, expected", [
    (0, 6, 2 * Fraction(1, 64)),             # 0.03125
    (6, 0, 2 * Fraction(1, 64)),             # two-sided: the same either way
    (1, 5, 2 * Fraction(1 + 6, 64)),         # 0.21875
    (2, 3, Fraction(1)),                     # 2 * (1 + 5 + 10) / 32 = 1, capped
    (4, 4, Fraction(1)),                     # b = c
    (0, 1, Fraction(1)),                     # one discordant query is no evidence
    (0, 20, 2 * Fraction(1, 2 ** 20)),
    (3, 1, 2 * Fraction(1 + 4, 16)),         # 0.625
])
def test_mcnemar_exact_p_values_are_hand_computed(right_a_only, right_b_only, expected):
    a, b = pairs(right_a_only, right_b_only, both=7, neither=5)  # concordant pairs do not count
    assert mcnemar_exact_p_value(a, b) == pytest.approx(float(expected), rel=1e-12)
    assert p_value(a, b, MCNEMAR) == mcnemar_exact_p_value(a, b)


def test_no_discordant_query_gives_one():
    assert mcnemar_exact_p_value(*pairs(0, 0, both=10, neither=3)) == 1.0
    assert mcnemar_exact_p_value(np.array([]), np.array([])) == 1.0


def test_mcnemar_agrees_with_exact_rational_arithmetic_and_is_deterministic():
    for n in range(1, 61, 7):
        for small in range(0, n // 2 + 1, 3):
            a, b = pairs(small, n - small)
            assert mcnemar_exact_p_value(a, b) == pytest.approx(exact(small, n), rel=1e-12)
    a, b = pairs(480, 560, both=3000, neither=500)  # a pooled aggregate's size
    assert mcnemar_exact_p_value(a, b) == pytest.approx(exact(480, 1040), rel=1e-9)
    assert len({mcnemar_exact_p_value(a, b) for _ in range(5)}) == 1
    order = np.random.default_rng(0).permutation(len(a))
    assert mcnemar_exact_p_value(a[order], b[order]) == mcnemar_exact_p_value(a, b)


def test_mcnemar_refuses_values_that_are_not_zero_or_one():
    with pytest.raises(XbenchError, match="values of 0 or 1, got 0.5"):
        mcnemar_exact_p_value(np.array([1.0, 0.5]), np.array([1.0, 1.0]))


def test_the_metric_spec_chooses_the_test():
    assert chosen_test(metric_spec("accuracy"), "student") == chosen_test(metric_spec("accuracy"), "fisher") == "mcnemar-exact"
    assert chosen_test(metric_spec("map"), "fisher") == "fisher" and chosen_test(metric_spec("ndcg@10"), "student") == "student"


def bitext(accuracy: dict[tuple[str, str, str], list[float]] | None = None, name: str = "m") -> TaskResult:
    """A pivot-paired result (kab, bre with eng; 40 queries per setting) with an accuracy column:
    every query right and AP 1 unless ``accuracy`` gives a setting's outcomes (AP follows them)."""
    rows = []
    for kind, q, c in SETTINGS:
        outcomes = (accuracy or {}).get((kind, q, c), [1.0] * N)
        for i, hit in enumerate(outcomes):
            rows.append({"kind": kind, "query_lang": q, "corpus_lang": c, "query_id": f"{min(q, c)}-eng:{i + 1}",
                         "ap": 1.0 if hit else 0.5, "n_relevant": 1, "rank_distance": np.nan, "accuracy": hit})
    frame = pd.DataFrame(rows)
    settings = [{"kind": k, "query_lang": q, "corpus_lang": c, "n_queries": N} for k, q, c in SETTINGS]
    doc = {"task": "bitext", "languages": ["kab", "bre", "eng"], "candidate_text": "sentence", "settings": settings,
           "model": {"name": name}, "data": {"checksums": {"bitext.kab-eng.kab": "0" * 64}, "official": True, "modified_files": []}}
    return TaskResult(doc, frame)


def drop(misses: int) -> list[float]:
    """A setting's 40 outcomes with the first ``misses`` queries wrong."""
    return [0.0] * misses + [1.0] * (N - misses)


def test_accuracy_is_compared_by_mcnemar_and_map_by_the_configured_test():
    base, worse = bitext(), bitext({("cross", "kab", "eng"): drop(20)})
    rows = compare_task(base, worse, test="fisher")
    assert [(r.label, r.metric, r.test) for r in rows[:4]] == [
        ("cross (aggregate)", "accuracy", "mcnemar-exact"), ("cross (aggregate)", "map", "fisher"),
        ("cross kab->eng", "accuracy", "mcnemar-exact"), ("cross kab->eng", "map", "fisher")]
    assert len(rows) == 2 + 2 * len(SETTINGS)
    setting = rows[2]
    assert (setting.a, setting.b, setting.n) == (1.0, 0.5, N)
    assert setting.p == pytest.approx(2 / 2 ** 20, rel=1e-12)  # 20 discordant queries, all one way
    pooled = rows[0]  # macro mean over the 4 settings; McNemar on the 160 pooled queries (20 discordant)
    assert (pooled.a, pooled.b, pooled.n) == (1.0, pytest.approx(1 - 0.5 / 4), 4 * N) and pooled.p == pytest.approx(2 / 2 ** 20)
    assert rows[1].p == rows[3].p == 0.0  # none of fisher's 1000 random swaps reaches 20 equal differences
    assert all(r.p == 1.0 for r in rows if r.setting and r.setting.query_lang != "kab")
    only = compare_task(base, worse, test="fisher", metrics=("accuracy",))  # 5 rows; Holm: 5 p then max(5 p, 4 p)
    assert [r.metric for r in only] == ["accuracy"] * 5
    assert only[0].p_holm == only[1].p_holm == pytest.approx(5 * 2 / 2 ** 20, rel=1e-12)


def test_a_significant_accuracy_drop_fails_the_check_naming_mcnemar():
    base, worse = bitext(name="base"), bitext({("cross", "kab", "eng"): drop(20)}, name="worse")
    tol = Tolerance()
    rows = check_task(base, worse, tol)
    failed = {(r.label, r.metric) for r in rows if r.status == "regression"}
    # AP falls too (1 -> 0.75 on kab->eng), by the t-test on 20 tied differences
    assert failed == {("cross (aggregate)", "accuracy"), ("cross kab->eng", "accuracy"), ("cross (aggregate)", "map"), ("cross kab->eng", "map")}
    report = {"bitext": rows}
    xml = junit_xml(report, tol).decode()
    assert 'classname="bitext.accuracy" name="cross kab-&gt;eng"' in xml and "(mcnemar-exact test, Holm-corrected)" in xml
    assert 'classname="bitext.map" name="cross kab-&gt;eng"' in xml and "(student test, Holm-corrected)" in xml
    summary = markdown_summary(report, tol, "base", "worse")
    # Holm over 10 rows: the t-test on kab->eng's AP is the smallest p (2.4e-7), then McNemar's
    # 2^-19 twice: 9 * 2^-19 = 1.72e-05, and max(8 * 2^-19, that)
    assert "| cross kab->eng | accuracy | 1.0000 | 0.5000 | -0.5000 | 1.72e-05 | mcnemar-exact | regression |" in summary
    assert "tests: accuracy: mcnemar-exact, map: student." in summary
    view = check_view(report, True)
    assert "bitext: 10 checked (accuracy: mcnemar-exact, map: student), 4 regression(s)" in view and view.endswith("FAIL: regression")
    as_json = json.loads(report_json(report))["bitext"]
    assert as_json[2]["metric"] == "accuracy" and as_json[2]["test"] == "mcnemar-exact" and as_json[2]["status"] == "regression"
    assert "mcnemar-exact" in compare_view("bitext", "base", "worse", rows, 0.05)


def test_an_insignificant_accuracy_drop_passes():
    """3 queries lost, 1 gained on kab->eng: accuracy falls by 0.05, beyond --max-drop, but McNemar
    gives p = 2 (1 + 4) / 16 = 0.625 on the 4 discordant queries: no regression."""
    baseline = [0.0] + [1.0] * (N - 1)
    candidate = [1.0] + [0.0] * 3 + [1.0] * (N - 4)
    base, other = bitext({("cross", "kab", "eng"): baseline}), bitext({("cross", "kab", "eng"): candidate})
    rows = check_task(base, other, Tolerance(max_drop=0.01, metrics=("accuracy",)))
    assert [(r.label, r.metric) for r in rows] == [("cross (aggregate)", "accuracy")] + [(f"cross {q}->{c}", "accuracy") for _, q, c in SETTINGS]
    kab = rows[1]
    assert kab.delta == pytest.approx(-2 / N) and kab.p == pytest.approx(0.625, rel=1e-12) and kab.status == "ok"
    assert all(r.status == "ok" for r in rows)


def test_a_metric_only_one_side_computed_or_none_did_is_refused():
    lareqa = TaskResult(*tiny_result())
    without = TaskResult(bitext().to_dict(), bitext().per_query.drop(columns="accuracy"))
    with pytest.raises(UsageError, match="cannot compare bitext results on accuracy: only the baseline \\(A\\) computed it"):
        compare_task(bitext(), without, metrics=["accuracy"])
    # by default, a metric only one side has is left out (a run with --metrics accuracy against a plain one)
    assert {r.metric for r in compare_task(bitext(), without)} == {"map"}
    report = {"tiny": compare_task(lareqa, lareqa, metrics=["accuracy"])}
    assert report == {"tiny": []}
    with pytest.raises(UsageError, match="^--metric accuracy: no compared result of tiny has it$"):
        measured(report, ["accuracy"])
    both = {"tiny": [], "bitext": compare_task(bitext(), bitext(), metrics=["accuracy"])}
    assert list(measured(both, ["accuracy"])) == ["bitext"]  # a task without the metric drops out


def test_cli_metric_option(tmp_path):
    """``--metric`` picks the compared metrics; an unknown name, or one no result has, is a usage error."""
    for side, seed in (("a", 0), ("b", 1)):
        write_document(tmp_path / side, *tiny_result(seed))
    run = CliRunner().invoke
    result = run(main, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--metric", "map", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["tiny"]
    assert {r["metric"] for r in rows} == {"map"} and {r["test"] for r in rows} == {"student"} and len(rows) == 3 + 6
    result = run(main, ["check", "--candidate", str(tmp_path / "b"), "--baseline", str(tmp_path / "a"), "--metric", "rank_distance,map@100", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["tiny"]  # rank distance: its aggregate; map@100: 3 aggregates, 6 settings
    assert [r["metric"] for r in rows] == ["map@100"] * 3 + ["rank_distance"] + ["map@100"] * 6
    result = run(main, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--metric", "accuracy"])
    assert result.exit_code == 2 and "--metric accuracy: no compared result of tiny has it" in result.output
    result = run(main, ["check", "--candidate", str(tmp_path / "b"), "--baseline", str(tmp_path / "a"), "--metric", "bleu"])
    assert result.exit_code == 2 and "unknown metric 'bleu'" in result.output


tatoeba = pytest.mark.skipif(SHARED_TATOEBA is None, reason="../shared/data/tatoeba not present")


@tatoeba
def test_check_on_tatoeba_names_mcnemar_and_its_p_values_recompute(tmp_path):
    """End to end on real Tatoeba (kab, bre): a degraded model fails the check on accuracy by
    McNemar's exact test, the baseline's own model passes, and each accuracy row's raw p-value is
    the exact binomial tail of the discordant queries counted here from the two per-query tables."""
    env = {"XBENCH_DATA": str(SHARED_TATOEBA)}

    def cli(*args):
        return CliRunner().invoke(main, [str(a) for a in args], env=env)

    common = ("--task", "tatoeba", "--langs", "kab,bre", "--cache-dir", tmp_path / "cache", "-q")
    assert cli("run", "--model", "tests.encoders_for_tests:Cosine", "--output", tmp_path / "base", *common).exit_code == 0
    result = cli("check", "--model", "tests.encoders_for_tests:Noisy", "--baseline", tmp_path / "base", "--output", tmp_path / "noisy", "--json", *common)
    assert result.exit_code == 1, result.output
    rows = json.loads(result.output)["tatoeba"]
    accuracy = [r for r in rows if r["metric"] == "accuracy"]
    # the aggregates of the result (kab and bre are in neither group), then the four settings
    assert [r["kind"] for r in accuracy[:3]] == ["all", "xx->eng", "eng->xx"] and not any(r["query_lang"] for r in accuracy[:3])
    assert len(accuracy) == 3 + 4 and {r["test"] for r in accuracy} == {"mcnemar-exact"}
    assert {r["test"] for r in rows if r["metric"] == "map"} == {"student"}
    assert any(r["status"] == "regression" for r in accuracy)
    a = TaskResult.from_file(tmp_path / "base" / "tatoeba.json").per_query
    b = TaskResult.from_file(tmp_path / "noisy" / "tatoeba.json").per_query
    joined = a.merge(b, on=["kind", "query_lang", "corpus_lang", "query_id"], suffixes=("_a", "_b"))
    for row in accuracy[3:]:
        part = joined[(joined.query_lang == row["query_lang"]) & (joined.corpus_lang == row["corpus_lang"])]
        only_a = int(((part.accuracy_a == 1) & (part.accuracy_b == 0)).sum())
        only_b = int(((part.accuracy_a == 0) & (part.accuracy_b == 1)).sum())
        assert row["p"] == pytest.approx(exact(min(only_a, only_b), only_a + only_b) if only_a + only_b else 1.0, rel=1e-9)
    same = cli("check", "--model", "tests.encoders_for_tests:Cosine", "--baseline", tmp_path / "base", "--output", tmp_path / "same", *common)
    assert same.exit_code == 0 and "accuracy: mcnemar-exact" in same.output and "PASS" in same.output
