"""`xbench check` gates on robustness: a checkpoint whose AP drops more under a perturbation than the
baseline's fails, one that drops as much passes; `check --model` runs the perturbations the
baseline holds, and refuses a baseline made with another version of one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import benchmark.perturb as perturb
from benchmark.cli import main
from benchmark.regression.check import Tolerance
from benchmark.regression.gate import failed, judge_candidates, load_candidates
from benchmark.results.io import write_document
from tests.fixtures.tiny_result import SETTINGS, tiny_result
from tests.perturbations_for_tests import Reverse

N = 20
UPPER = {"name": "upper", "version": 1, "changed": {"en": N, "de": 0}}
BASE = np.round(0.5 + 0.02 * np.arange(N), 6)  # clean AP of every query, 0.50 ... 0.88
LOSS = np.where(np.arange(N) % 2, 0.08, 0.12)  # what an English query loses under the perturbation (mean 0.1)
EXTRA = np.where(np.arange(N) % 3, 0.1, 0.06)  # a fragile checkpoint: gains this clean, keeps none of it perturbed


def aps(clean: np.ndarray, loss: np.ndarray) -> tuple[dict, dict]:
    """Per-setting AP of a clean run and of its perturbed run: English queries lose ``loss``."""
    clean_ap = {s: list(clean) for s in SETTINGS}
    perturbed_ap = {s: list(clean - loss) if s[1] == "en" else list(clean) for s in SETTINGS}
    return clean_ap, perturbed_ap


def write_run(folder, clean: np.ndarray, loss: np.ndarray):
    clean_ap, perturbed_ap = aps(clean, loss)
    folder.mkdir(parents=True, exist_ok=True)
    write_document(folder, *tiny_result(0, clean_ap, queries=N))
    write_document(folder, *tiny_result(0, perturbed_ap, UPPER, queries=N))
    return folder


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture()
def baseline(tmp_path):
    return write_run(tmp_path / "baseline", BASE, LOSS)


def test_an_equally_robust_checkpoint_passes(tmp_path, baseline):
    candidate = write_run(tmp_path / "same", BASE, LOSS)
    report = judge_candidates(load_candidates(candidate), baseline, Tolerance())
    drops = [r for r in report["tiny~upper"] if r.perturbation]
    assert [r.label for r in drops] == ["mono drop under upper", "cross drop under upper", "multi drop under upper"]
    mono = drops[0]  # macro mean of mono en (drop 0.1) and mono de (no drop)
    assert mono.a == pytest.approx(0.05) and mono.b == pytest.approx(0.05) and mono.n == 2 * N and mono.p == 1.0
    assert not failed(report)
    assert cli("check", "--candidate", candidate, "--baseline", baseline).exit_code == 0


def test_a_checkpoint_that_loses_more_under_the_perturbation_fails(tmp_path, baseline):
    # the candidate is better clean and exactly as good perturbed: its drop grows by EXTRA on English queries
    clean = BASE + EXTRA
    candidate = write_run(tmp_path / "fragile", clean, LOSS + EXTRA)
    result = cli("check", "--candidate", candidate, "--baseline", baseline, "--json")
    assert result.exit_code == 1, result.output
    rows = json.loads(result.output)
    assert not any(r["status"] == "regression" for r in rows["tiny"])  # clean: it improved
    assert not any(r["status"] == "regression" for r in rows["tiny~upper"] if "perturbation" not in r)  # perturbed: the same
    drops = {r["kind"]: r for r in rows["tiny~upper"] if r.get("perturbation") == "upper"}
    growth = EXTRA.mean() / 2  # mono: English settings' drop grows by mean(EXTRA), German ones' not; macro mean of the two
    assert drops["mono"]["a"] == pytest.approx(0.05) and drops["mono"]["b"] == pytest.approx(0.05 + growth)
    assert drops["mono"]["delta"] == pytest.approx(growth)
    assert {k for k, r in drops.items() if r["status"] == "regression"} == {"mono", "cross", "multi"}
    text = cli("check", "--candidate", candidate, "--baseline", baseline).output
    assert "mono drop under upper" in text and "FAIL: regression" in text
    # within the tolerance, the same growth passes
    assert cli("check", "--candidate", candidate, "--baseline", baseline, "--max-drop", "0.2").exit_code == 0


def test_a_baseline_without_the_clean_result_checks_the_perturbed_one_alone(tmp_path, baseline):
    candidate = write_run(tmp_path / "fragile", BASE + EXTRA, LOSS + EXTRA)
    (baseline / "tiny.json").unlink()
    (candidate / "tiny.json").rename(tmp_path / "elsewhere.json")
    report = judge_candidates(load_candidates(candidate), baseline, Tolerance())
    assert not any(r.perturbation for r in report["tiny~upper"]) and not failed(report)


# ---- check --model runs the baseline's perturbations ---------------------------------------------


@pytest.fixture()
def model_baseline(tmp_path, synthetic, monkeypatch):
    monkeypatch.setattr(perturb.PERTURBATIONS, "_builtins", {"reverse": Reverse()})
    common = ["--task", synthetic.task, "--data-dir", synthetic.root, "--cache-dir", tmp_path / "cache", "-q"]
    result = cli("run", "--model", "ngram-hash", "--output", tmp_path / "baseline", "--perturb", "reverse", *common)
    assert result.exit_code == 0, result.output
    return tmp_path, common


def test_check_model_runs_the_perturbations_the_baseline_holds(model_baseline):
    root, common = model_baseline
    result = cli("check", "--model", "ngram-hash", "--baseline", root / "baseline", "--output", root / "again", "--json", *common)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"synth", "synth~reverse"}
    drops = [r for r in report["synth~reverse"] if r.get("perturbation") == "reverse"]
    assert {r["kind"] for r in drops} == {"mono", "cross", "multi"} and all(r["delta"] == 0.0 for r in drops)
    assert (root / "again" / "synth~reverse.json").is_file()


def test_check_model_refuses_a_baseline_of_another_perturbation_version(model_baseline, monkeypatch):
    root, common = model_baseline
    monkeypatch.setattr(perturb.PERTURBATIONS, "_builtins", {"reverse": Reverse(version=2)})
    result = cli("check", "--model", "ngram-hash", "--baseline", root / "baseline", "--output", root / "again", *common)
    assert result.exit_code == 2 and "Traceback" not in result.output and result.output.count("\n") == 1
    assert f"--baseline {root / 'baseline' / 'synth~reverse.json'}: perturbation reverse is version 1 there, 2 here" in result.output
    assert not (root / "again").exists()  # refused before anything ran
