"""`xbench check`: pass on the same model, fail on a degraded one naming the settings, tolerate
small or insignificant differences, refuse incomparable inputs (exit 2), write JUnit XML and a
GitHub summary; and a plain transformers checkpoint evaluates like its sentence-transformers twin."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from junitparser import JUnitXml

from benchmark.cli import main
from benchmark.results.io import read_per_query, read_document
from tests.paths import SHARED_LAREQA

LANGS = "en,de,es"
real = pytest.mark.skipif(SHARED_LAREQA is None, reason="../shared/data/lareqa not present")


def cli(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env={"XBENCH_DATA": str(SHARED_LAREQA), **(env or {})})


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A baseline on three XQuAD-R languages (3 mono, 6 cross, 3 multi settings, 1190 queries each)."""
    if SHARED_LAREQA is None:
        pytest.skip("../shared/data/lareqa not present")
    root = tmp_path_factory.mktemp("check")
    result = cli("run", "--model", "tests.encoders_for_tests:Cosine", "--task", "xquad-r", "--langs", LANGS,
                 "--cache-dir", root / "cache", "--output", root / "baseline", "-q")
    assert result.exit_code == 0, result.output
    return root


def check(base, model, *extra, env=None):
    return cli("check", "--model", model, "--baseline", base / "baseline", "--task", "xquad-r", "--langs", LANGS,
               "--cache-dir", base / "cache", "--output", base / model.split(":")[-1], "-q", *extra, env=env)


@real
def test_same_model_passes_with_identical_scores(base, tmp_path):
    summary = tmp_path / "summary.md"
    result = check(base, "tests.encoders_for_tests:Cosine", "--junit", tmp_path / "same.xml", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output
    again = read_document(base / "Cosine" / "xquad-r.json")
    assert again["scores"] == read_document(base / "baseline" / "xquad-r.json")["scores"]
    assert again["settings"] == read_document(base / "baseline" / "xquad-r.json")["settings"]
    suite = JUnitXml.fromfile(str(tmp_path / "same.xml"))
    cases = [case for s in suite for case in s]
    # mAP per kind, the rank distance and the four bias measures (aggregates), then mAP per setting
    assert len(cases) == 3 + 1 + 4 + 3 + 6 + 3 and all(case.is_passed for case in cases)
    assert "xbench check" in summary.read_text() and "pass" in summary.read_text()


@real
def test_degraded_model_fails_naming_the_settings(base, tmp_path):
    result = check(base, "tests.encoders_for_tests:Noisy", "--junit", tmp_path / "check.xml")
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output and "mono en->en" in result.output and "regression" in result.output
    suite = JUnitXml.fromfile(str(tmp_path / "check.xml"))
    failed = {case.name for s in suite for case in s if not case.is_passed}
    assert {"mono (aggregate)", "mono en->en", "mono de->de", "mono es->es"} <= failed
    assert suite.failures == len(failed) if hasattr(suite, "failures") else True


@real
def test_fisher_test_also_fails_it(base):
    result = check(base, "tests.encoders_for_tests:Noisy", "--test", "fisher", "--json")
    assert result.exit_code == 1
    rows = json.loads(result.output.split("\n", 0)[0] if False else result.output)["xquad-r"]
    assert any(r["status"] == "regression" and r["kind"] == "mono" for r in rows)


@real
def test_drop_inside_the_tolerance_passes(base):
    result = check(base, "tests.encoders_for_tests:Noisy", "--max-drop", "1.0", "--max-rank-distance-increase", "100000")
    assert result.exit_code == 0, result.output


@real
def test_insignificant_drop_passes(base):
    """A slightly perturbed model: with no tolerance at all, only significance stands between its
    small changes and a failure, and no change of mAP is significant after Holm. The mean rank
    correlation does see the noise (it breaks the ties of each language's ranking its own way, so
    every question's rankings drift apart a little, consistently): a significant drop of 0.0001,
    which only a zero tolerance turns into a regression."""
    result = check(base, "tests.encoders_for_tests:SlightlyNoisy", "--max-drop", "0", "--max-rank-distance-increase", "0", "--json")
    assert result.exit_code == 1, result.output
    rows = json.loads(result.output)["xquad-r"]
    assert [r["metric"] for r in rows if r["status"] == "regression"] == ["rank_correlation"]
    (rho,) = [r for r in rows if r["metric"] == "rank_correlation"]
    assert -0.001 < rho["delta"] < 0 and rho["p_holm"] <= 0.05
    changed = [r for r in rows if r["metric"] == "map" and r["delta"] < 0]
    assert changed and max(abs(r["delta"]) for r in changed) < 0.01
    assert all(r["p_holm"] > 0.05 for r in changed)
    assert {r["status"] for r in rows if r["metric"] in ("own_share", "english_share", "own_first")} == {"descriptive"}
    result = check(base, "tests.encoders_for_tests:SlightlyNoisy", "--max-drop", "0.001", "--max-rank-distance-increase", "0")
    assert result.exit_code == 0, result.output


@real
def test_fast_mode_samples_queries_exactly(base):
    result = check(base, "tests.encoders_for_tests:Cosine", "--sample", "100", "--seed", "7", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["xquad-r"]
    assert {r["n"] for r in rows if r["query_lang"]} == {100}
    # the same queries against the same pools: equal up to the float rounding of near-tied scores
    assert all(abs(r["delta"]) < 1e-6 for r in rows if r["kind"] != "rank_distance")
    assert all(r["status"] == ("descriptive" if r["metric"] in ("own_share", "english_share", "own_first") else "ok") for r in rows)
    sampled = read_document(base / "Cosine" / "xquad-r.json")
    assert sampled["sample"] == {"queries": 100, "seed": 7} and not sampled["complete"]


@real
def test_incomparable_inputs_exit_2(base, tmp_path):
    # more languages than the baseline has: missing settings
    result = cli("check", "--model", "tests.encoders_for_tests:Cosine", "--baseline", base / "baseline", "--task", "xquad-r",
                 "--langs", "en,de,es,zh", "--cache-dir", base / "cache", "--output", tmp_path / "more", "-q")
    assert result.exit_code == 2 and "missing from the baseline" in result.stderr, result.output
    # other data
    tampered = tmp_path / "tampered"
    shutil.copytree(base / "baseline", tampered)
    doc = json.loads((tampered / "xquad-r.json").read_text())
    doc["data"]["checksums"]["xquad-r/en.json"] = "0" * 64
    (tampered / "xquad-r.json").write_text(json.dumps(doc))
    result = cli("check", "--candidate", base / "baseline", "--baseline", tampered)
    assert result.exit_code == 2 and "different data checksums" in result.stderr
    # other candidate text
    doc["data"]["checksums"]["xquad-r/en.json"] = read_document(base / "baseline" / "xquad-r.json")["data"]["checksums"]["xquad-r/en.json"]
    doc["candidate_text"] = "sentence+context"
    (tampered / "xquad-r.json").write_text(json.dumps(doc))
    result = cli("check", "--candidate", base / "baseline", "--baseline", tampered)
    assert result.exit_code == 2 and "candidate text" in result.stderr
    # a task the baseline does not have
    result = cli("check", "--candidate", base / "baseline", "--baseline", base / "baseline" / "xquad-r.json", "--task", "mlqa-r")
    assert result.exit_code == 2
    # neither or both of --model / --candidate
    assert cli("check", "--baseline", base / "baseline").exit_code == 2


def test_transformers_checkpoint_evaluates_like_its_twin(tmp_path, synthetic):
    from tests.fixtures.lareqa_synthetic import collect_texts
    from tests.fixtures.tiny_model import build_tiny_model, build_tiny_transformers_checkpoint

    texts = collect_texts(synthetic.root / "synth")
    st = build_tiny_model(tmp_path / "st", texts, seed=3)
    hf = build_tiny_transformers_checkpoint(tmp_path / "hf", texts, seed=3)
    docs = {}
    for name, model in (("st", st), ("hf", hf)):
        result = cli("run", "--model", model, "--task", synthetic.task, "--data-dir", synthetic.root, "--cache-dir", tmp_path / "cache",
                     "--output", tmp_path / f"out-{name}", "-q", "--pooling", "mean") if name == "hf" else \
            cli("run", "--model", model, "--task", synthetic.task, "--data-dir", synthetic.root, "--cache-dir", tmp_path / "cache",
                "--output", tmp_path / f"out-{name}", "-q")
        assert result.exit_code == 0, result.output
        path = tmp_path / f"out-{name}" / "synth.json"
        docs[name] = (read_document(path), read_per_query(path, read_document(path)))
    assert docs["hf"][0]["model"]["kind"] == "transformers" and docs["hf"][0]["model"]["pooling"] == "mean"
    for a, b in zip(docs["st"][0]["settings"], docs["hf"][0]["settings"]):
        assert a["map"] == pytest.approx(b["map"], abs=1e-6)
    assert (docs["st"][1].ap - docs["hf"][1].ap).abs().max() < 1e-6
    # and the check between them passes
    result = cli("check", "--candidate", tmp_path / "out-hf", "--baseline", tmp_path / "out-st")
    assert result.exit_code == 0, result.output
