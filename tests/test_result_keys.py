"""Results pair by key: a perturbed result (``<task>~<perturbation>``) is compared and checked
only against the same perturbation's result, never against the clean one or another perturbation's."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.errors import UsageError
from benchmark.regression.compare import compare_task, load
from benchmark.results import TaskResult
from benchmark.results.io import write_document
from tests.fixtures.tiny_result import tiny_result

MONO_EN = ("mono", "en", "en")
UPPER = {"name": "upper", "version": 1, "changed": {"en": 3, "de": 0}}


def write(folder, ap=None, perturbation=None):
    write_document(folder, *tiny_result(0, {MONO_EN: ap or [1.0, 1.0, 1.0]}, perturbation))


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture()
def folders(tmp_path):
    """A and B: the same clean result; A's upper-cased run has AP 1/2 on mono en->en, B's 1/4."""
    for name, upper_ap in (("a", [0.5, 0.5, 0.5]), ("b", [0.25, 0.25, 0.25])):
        (tmp_path / name).mkdir()
        write(tmp_path / name)
        write(tmp_path / name, upper_ap, UPPER)
    return tmp_path / "a", tmp_path / "b"


def test_compare_pairs_each_result_with_the_same_key(folders):
    result = cli("compare", *folders, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"tiny", "tiny~upper"}
    clean = {(r["kind"], r["query_lang"]): r for r in report["tiny"] if r["corpus_lang"]}
    upper = {(r["kind"], r["query_lang"]): r for r in report["tiny~upper"] if r["corpus_lang"]}
    assert clean["mono", "en"]["delta"] == 0.0  # clean against clean
    assert upper["mono", "en"]["a"] == 0.5 and upper["mono", "en"]["b"] == 0.25  # upper against upper, not against 1.0
    text = cli("compare", *folders).output
    assert "tiny~upper: A = model-0, B = model-0" in text


def test_task_option_keeps_the_tasks_perturbed_runs(folders):
    assert sorted(r.key for r in load(folders[0], "tiny")) == ["tiny", "tiny~upper"]


def test_a_perturbed_result_never_stands_in_for_the_clean_one(tmp_path):
    clean = TaskResult(*tiny_result(0))
    upper = TaskResult(*tiny_result(0, perturbation=UPPER))
    with pytest.raises(UsageError, match=r"different results \(tiny vs tiny~upper\)"):
        compare_task(clean, upper)


def test_other_perturbation_versions_or_libraries_are_refused():
    a = TaskResult(*tiny_result(0, perturbation=UPPER))
    b = TaskResult(*tiny_result(0, perturbation=dict(UPPER, version=2)))
    with pytest.raises(UsageError, match="perturbation upper is version 1 in one and 2 in the other"):
        compare_task(a, b)
    c = TaskResult(*tiny_result(0, perturbation=dict(UPPER, libraries={"anyascii": "0.3.2"})))
    with pytest.raises(UsageError, match="made with anyascii None in one and 0.3.2 in the other"):
        compare_task(a, c)


def test_check_refuses_a_perturbed_candidate_the_baseline_lacks(tmp_path, folders):
    baseline = tmp_path / "base"
    baseline.mkdir()
    write(baseline)
    result = cli("check", "--candidate", folders[1], "--baseline", baseline)
    assert result.exit_code == 2
    assert f"--baseline {baseline}: no result tiny~upper (tiny~upper.json)" in result.output and "Traceback" not in result.output


def test_check_judges_the_perturbed_result_against_the_baselines_same_key(folders):
    result = cli("check", "--candidate", folders[1], "--baseline", folders[0], "--json")
    report = json.loads(result.output)
    assert set(report) >= {"tiny", "tiny~upper"}
    assert all(r["delta"] == 0.0 for r in report["tiny"])
    mono_en = next(r for r in report["tiny~upper"] if (r["kind"], r["query_lang"], r["corpus_lang"]) == MONO_EN)
    assert (mono_en["a"], mono_en["b"]) == (0.5, 0.25)
