"""``--metrics``: ranx cutoff metrics (and accuracy) added to a run without editing the task's TOML,
validated against the names xbench computes, recorded, and harmless to compare and check."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.results.io import read_document, read_per_query
from tests.fixtures.bitext_files import bitext_task
from tests.test_no_traceback import assert_one_line_failure


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_constant_encoder_cutoffs_are_hand_computed(tmp_path):
    """Every score ties under the constant encoder, so the pessimistic rule puts the one relevant
    line last: rank 5 in fra's pools of 5, rank 3 in kab's pools of 3. At k = 4: fra finds
    nothing (0 everywhere); kab: recall 1, AP@4 = 1/3, precision 1/4, F1 = 2 (1/4)(1) / (1/4 + 1) = 0.4."""
    toml, root = bitext_task(tmp_path, "cut", {"fra": 5, "kab": 3})  # the task's own metrics: accuracy, map
    args = ["run", "--model", "tests.encoders_for_tests:constant", "--task", str(toml), "--data-dir", str(root),
            "--cache-dir", str(tmp_path / "cache"), "--output", str(tmp_path / "out"), "-q"]
    single = invoke(*args, "--metrics", "recall@4")  # one cutoff metric alone (ranx's single-metric path)
    assert single.exit_code == 0, single.output
    assert [s["recall@4"] for s in read_document(tmp_path / "out" / "cut.json")["settings"]] == [0.0, 0.0, 1.0, 1.0]

    result = invoke(*args, "--metrics", " map@4,recall@4", "--metrics", "f1@4,map@4", "--metrics", "accuracy")
    assert result.exit_code == 0, result.output
    doc = read_document(tmp_path / "out" / "cut.json")
    assert doc["requested_metrics"] == ["map@4", "recall@4", "f1@4", "accuracy"]
    assert doc["task_definition"]["metrics"] == ["accuracy", "map", "map@4", "recall@4", "f1@4"]  # accuracy once
    assert doc["command"].endswith(f"--task {toml} --metrics map@4,recall@4,f1@4,accuracy")
    expected = {"fra": {"map@4": 0.0, "recall@4": 0.0, "f1@4": 0.0}, "kab": {"map@4": 1 / 3, "recall@4": 1.0, "f1@4": 0.4}}
    for s in doc["settings"]:
        lang = s["corpus_lang"] if s["query_lang"] == "eng" else s["query_lang"]
        assert s["accuracy"] == 0.0
        for name, value in expected[lang].items():
            assert s[name] == pytest.approx(value, abs=1e-12), (s, name)
    table = read_per_query(tmp_path / "out" / "cut.json", doc)
    assert list(table.columns)[-4:] == ["accuracy", "map@4", "recall@4", "f1@4"]
    kab = table[table.query_id.str.startswith("kab-")]
    assert len(kab) == 6 and list(kab["map@4"]) == pytest.approx([1 / 3] * 6) and list(kab["f1@4"]) == pytest.approx([0.4] * 6)
    assert doc["aggregates"]["all"]["f1@4"] == pytest.approx(0.2) and doc["aggregates"]["all"]["map@4"] == pytest.approx(1 / 6)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, synthetic):
    """The synthetic LAReQA task run twice with the same model: without and with --metrics."""
    base = tmp_path_factory.mktemp("metrics-option")
    common = ["--model", "tests.encoders_for_tests:ngram_counts", "--task", str(synthetic.task), "--data-dir", str(synthetic.root),
              "--cache-dir", str(base / "cache"), "-q"]
    plain = invoke("run", *common, "--output", str(base / "plain"))
    extra = invoke("run", *common, "--output", str(base / "extra"), "--metrics", "map@10,recall@50,ndcg@10")
    assert plain.exit_code == 0 and extra.exit_code == 0, plain.output + extra.output
    return base, common


def test_requested_metrics_are_columns_and_setting_values(two_runs):
    base, _ = two_runs
    plain, extra = (read_document(base / name / "synth.json") for name in ("plain", "extra"))
    assert plain["requested_metrics"] == [] and extra["requested_metrics"] == ["map@10", "recall@50", "ndcg@10"]
    assert extra["task_definition"]["metrics"] == [*plain["task_definition"]["metrics"], "map@10", "recall@50"]  # ndcg@10: the task's already
    table = read_per_query(base / "extra" / "synth.json", extra)
    assert {"map@10", "recall@50"} <= set(table.columns)
    for s, p in zip(extra["settings"], plain["settings"]):
        rows = table[(table.kind == s["kind"]) & (table.query_lang == s["query_lang"]) & (table.corpus_lang == s["corpus_lang"])]
        assert s["map@10"] == pytest.approx(rows["map@10"].mean(), abs=1e-12) and s["recall@50"] == pytest.approx(rows["recall@50"].mean(), abs=1e-12)
        assert {k: v for k, v in s.items() if k not in ("map@10", "recall@50")} == p  # the task's own numbers unchanged
        assert s["map@10"] <= s["map@100"] + 1e-12 and s["recall@50"] <= s["recall@100"] + 1e-12
    assert extra["cutoff_scores"]["mono"]["map@10"] == pytest.approx(
        sum(s["map@10"] for s in extra["settings"] if s["kind"] == "mono") / 3, abs=1e-12)


@pytest.mark.parametrize("a, b", [("plain", "extra"), ("extra", "plain")])
def test_compare_and_check_across_extra_metrics(two_runs, a, b):
    base, _ = two_runs
    compared = invoke("compare", str(base / a), str(base / b), "--json")
    assert compared.exit_code == 0, compared.output
    rows = json.loads(compared.stdout)["synth"]
    assert rows and all(r["delta"] == 0.0 for r in rows)
    checked = invoke("check", "--baseline", str(base / a), "--candidate", str(base / b))
    assert checked.exit_code == 0, checked.output


def test_check_model_takes_metrics(two_runs, tmp_path):
    base, common = two_runs
    result = invoke("check", "--baseline", str(base / "plain"), *common, "--output", str(tmp_path / "cand"), "--metrics", "precision@5")
    assert result.exit_code == 0, result.output
    assert read_document(tmp_path / "cand" / "synth.json")["requested_metrics"] == ["precision@5"]


@pytest.mark.parametrize("value, message", [
    ("foo@10", "--metrics: unknown metric 'foo@10'; available: map, accuracy, rank_distance, own_share, english_share, own_first, rank_correlation, ndcg@k, recall@k"),
    ("map@10,ndcg@0", "--metrics: unknown metric 'ndcg@0'"),
    ("hits@10", "--metrics: unknown metric 'hits@10'"),  # a ranx metric, but a count: not in [0, 1]
    ("recall@010", "--metrics: unknown metric 'recall@010'"),
    ("recall@99999999999999999999", "--metrics: unknown metric 'recall@99999999999999999999'"),
    (" , ", "--metrics: no metric name given"),
])
def test_bad_metric_names_are_usage_errors(tmp_path, value, message):
    """Refused while the options are read: before the (here unimportable) model is loaded."""
    result = invoke("run", "--model", "no_such_module_zz:encode", "--output", str(tmp_path / "o"), "--metrics", value)
    line = assert_one_line_failure(result.exit_code, result.stdout, result.stderr, result.exception)
    assert result.exit_code == 2 and line.startswith(f"xbench: error: {message}"), line
