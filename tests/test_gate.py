"""Check's orchestration (benchmark/regression/gate.py): results a run hands on in memory judge
exactly like the same results read back from disk, so ``xbench check --model`` never re-reads what
it has just written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from benchmark.encoders import EncoderOptions
from benchmark.engine.runner import RunConfig
from benchmark.engine.taskdef import load_definition_file
from benchmark.regression.check import Tolerance
from benchmark.regression.gate import Unpaired, failed, judge_candidates, load_candidates
from benchmark.results import TaskResult
from benchmark.results.io import read_document, read_per_query
from benchmark.run import run_model


@pytest.fixture(scope="module")
def runs(synthetic, tmp_path_factory):
    """A full baseline (ngram-hash) of both LAReQA synthetic tasks, and two candidates as a run
    hands them on: a full run of another model, and a sampled run of the baseline's model."""
    base = tmp_path_factory.mktemp("gate")
    definitions = [load_definition_file(synthetic.task), load_definition_file(synthetic.partial_task)]

    def run(model: str, out: str, **config) -> list:
        return run_model(model, definitions, EncoderOptions(), RunConfig(data_dir=synthetic.root, cache_dir=base / "cache", **config),
                         base / out, command=f"xbench run --model {model}")

    run("ngram-hash", "baseline")
    return base, {"other": run("tests.encoders_for_tests:ngram_counts", "other"), "sampled": run("ngram-hash", "sampled", sample=4, seed=1)}


@pytest.mark.parametrize("name", ["other", "sampled"])
def test_in_memory_frames_are_what_a_reader_gets(runs, name):
    _, candidates = runs
    for result in candidates[name]:
        from_disk = read_per_query(result.path, read_document(result.path))
        pd.testing.assert_frame_equal(result.per_query, from_disk, check_exact=True)  # dtypes, column order, NaN rank distances
        assert list(result.per_query.dtypes.astype(str)) == list(from_disk.dtypes.astype(str))


@pytest.mark.parametrize("name", ["other", "sampled"])
def test_in_memory_and_from_disk_candidates_give_the_same_report(runs, name):
    base, candidates = runs
    tol = Tolerance()
    in_memory = judge_candidates(candidates[name], base / "baseline", tol)
    from_disk = judge_candidates(load_candidates(base / name), base / "baseline", tol)
    def as_json(report):
        return json.dumps({task: [r.to_dict() for r in rows] for task, rows in report.items()})

    assert as_json(in_memory) == as_json(from_disk)
    assert set(in_memory) == {"synth", "synthp"}
    if name == "sampled":  # the baseline's own model on a sample: nothing regresses
        assert not failed(in_memory)


def test_candidates_are_chosen_by_task_and_must_pair_with_the_baseline(runs, tmp_path):
    base, _ = runs
    assert [r.task for r in load_candidates(base / "other", ("synthp",))] == ["synthp"]
    with pytest.raises(Unpaired, match="nothing to check: no candidate result"):
        judge_candidates(load_candidates(base / "other", ("nope",)), base / "baseline", Tolerance())
    only = tmp_path / "only-synth"
    only.mkdir()
    for name in ("synth.json", "synth.per_query.csv.gz"):
        (only / name).write_bytes((base / "baseline" / name).read_bytes())
    with pytest.raises(Unpaired, match=f"--baseline {only}: no result synthp \\(synthp.json\\)"):
        judge_candidates(load_candidates(base / "other"), only, Tolerance())


def test_run_model_returns_what_it_wrote(runs):
    base, candidates = runs
    for result in candidates["other"]:
        assert Path(result.path).parent == base / "other"
        written = TaskResult.from_file(result.path)
        assert written.command == result.command == "xbench run --model tests.encoders_for_tests:ngram_counts"
        assert written.to_dict() == result.to_dict()
