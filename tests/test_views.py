"""The terminal views of ``xbench run``: a pivot task's per-language table (sorted by accuracy,
groups marked) and aggregates, and headline tables that hold LAReQA and Tatoeba-like results side
by side, on hand-made results whose every printed number is known."""

from __future__ import annotations

from click.testing import CliRunner

from benchmark.cli import main
from benchmark.results import TaskResult
from benchmark.results.views import matrix_view, pivot_table, summary_table
from tests.fixtures.bitext_files import bitext_task
from tests.fixtures.tiny_result import tiny_result

# language -> (accuracy X->eng, eng->X, mAP X->eng, eng->X)
VALUES = {"aaa": (0.5, 0.7, 0.6, 0.8), "bbb": (0.9, 0.9, 0.95, 0.95), "ccc": (0.2, 0.4, 0.3, 0.5), "ddd": (0.6, 0.6, 0.7, 0.7)}
GROUPS = {"big": ["aaa", "bbb"], "tail": ["bbb", "ccc", "ddd"]}


def pivot_result(metrics=("accuracy", "map"), aggregates=True) -> TaskResult:
    settings = []
    for lang, (acc_to, acc_from, map_to, map_from) in VALUES.items():
        for (q, c), acc, ap in (((lang, "eng"), acc_to, map_to), (("eng", lang), acc_from, map_from)):
            record = {"kind": "cross", "query_lang": q, "corpus_lang": c, "map": ap, "n_queries": 10}
            if "accuracy" in metrics:
                record["accuracy"] = acc
            settings.append(record)
    doc = {"task": "piv", "task_definition": {"name": "piv", "metrics": list(metrics), "pairing": "pivot", "pivot": "eng", "symmetric": True,
                                              "groups": GROUPS},
           "languages": list(VALUES), "model": {"name": "m"}, "settings": settings,
           "scores": {"mono": None, "cross": 0.6875, "multi": None, "rank_distance": None},
           # hand-computed macro means, e.g. all accuracy (0.5 + 0.7 + 0.9 + 0.9 + 0.2 + 0.4 + 0.6 + 0.6) / 8 = 0.6
           "aggregates": {"all": {"accuracy": 0.6, "map": 0.6875}, "xx->eng": {"accuracy": 0.55, "map": 0.6375},
                          "eng->xx": {"accuracy": 0.65, "map": 0.7375}, "big": {"accuracy": 0.75, "map": 0.825},
                          "tail": {"accuracy": 0.6, "map": 0.6833333}} if aggregates else None}
    return TaskResult(doc, None)


def cells(table: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")[1:-1]] for line in table.splitlines()]


def test_pivot_table_sorts_by_mean_accuracy_and_marks_groups():
    rows = cells(pivot_table(pivot_result()))
    assert rows[0] == ["language", "xx->eng", "eng->xx", "mean", "mAP", "groups"]
    assert rows[2:] == [
        ["bbb", "0.900", "0.900", "0.900", "0.950", "big tail"],
        ["aaa", "0.500", "0.700", "0.600", "0.700", "big"],  # ties with ddd (0.600): task order
        ["ddd", "0.600", "0.600", "0.600", "0.700", "tail"],
        ["ccc", "0.200", "0.400", "0.300", "0.400", "tail"],
    ]


def test_pivot_table_without_accuracy_ranks_by_map():
    rows = cells(pivot_table(pivot_result(metrics=("map",))))
    assert [row[0] for row in rows[2:]] == ["bbb", "aaa", "ddd", "ccc"]
    assert rows[2] == ["bbb", "0.950", "0.950", "0.950", "0.950", "big tail"]


def test_pivot_view_shows_the_aggregates_block():
    text = matrix_view(pivot_result())
    assert "piv: accuracy per language, each paired with eng, both directions; best first" in text
    block = cells(text.split("aggregates (macro means over the settings of each scope)\n")[1].strip())
    assert block[0] == ["scope", "languages", "accuracy", "mAP"]
    assert block[2:] == [["all", "4", "0.600", "0.688"], ["xx->eng", "4", "0.550", "0.637"], ["eng->xx", "4", "0.650", "0.738"],
                         ["big", "2", "0.750", "0.825"], ["tail", "3", "0.600", "0.683"]]
    assert "aggregates" not in matrix_view(pivot_result(aggregates=False))  # a result written before they were recorded


def test_summary_holds_parallel_and_pivot_results():
    doc, frame = tiny_result()
    lareqa = TaskResult(doc, frame)
    text = summary_table([lareqa, pivot_result()])
    parallel, pivot = text.split("\n\n")
    assert cells(parallel)[2][:2] == ["tiny", "model-0"] and len(cells(parallel)) == 3
    assert cells(pivot)[0] == ["task", "model", "metric", "all", "xx->eng", "eng->xx", "big", "tail", "mAP (all)"]
    assert cells(pivot)[2] == ["piv", "m", "accuracy", "0.600", "0.550", "0.650", "0.750", "0.600", "0.688"]
    assert "\n\n" not in summary_table([pivot_result()]) and "Mono mAP" not in summary_table([pivot_result()])
    assert "Mono mAP" in summary_table([])


def test_run_prints_the_per_language_table_for_a_pivot_task(tmp_path):
    toml, root = bitext_task(tmp_path, "shown", {"fra": 3, "kab": 2}, groups={"tail": ["kab"]})
    result = CliRunner().invoke(main, ["run", "--model", "tests.encoders_for_tests:ngram_counts", "--task", str(toml), "--data-dir", str(root),
                                       "--cache-dir", str(tmp_path / "c"), "--output", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "shown: accuracy per language" in out and "query \\ corpus" not in out
    assert "| kab        | 1.000     | 1.000     | 1.000  | 1.000 | tail     |" in out
    assert "| shown  | tests.encoders_for_tests:ngram_counts | accuracy | 1.000 | 1.000     | 1.000     | 1.000  | 1.000       |" in out
