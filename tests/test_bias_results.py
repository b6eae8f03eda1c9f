"""The bias measures in result files, their validation, comparison and views: all or none (a
result written before them has none, and still reads, validates, compares and shows "-"), exactly
on the multilingual settings, each within its range; a forged one is refused naming the field or
the cell; submit's recomputation covers them; the descriptive ones are compared, never judged, in
a Holm family of their own."""

from __future__ import annotations

import pytest

from benchmark.errors import XbenchError
from benchmark.leaderboard.validate import check_recomputes
from benchmark.regression.check import Tolerance, check_task
from benchmark.regression.compare import compare_task
from benchmark.results import TaskResult
from benchmark.results.io import read_document, read_per_query, write_document
from benchmark.results.views import bias_table, summary_table
from tests.fixtures.tiny_result import tiny_result
from tests.test_result_schema import MULTI_ROW, _column, _delete, _set, edit_csv, edit_json, refused

BIAS = ("own_share", "english_share", "own_first", "rank_correlation")
EN_MULTI, DE_MULTI = 4, 5  # the tiny result's settings[4] and [5]: multi en->all, de->all


def old(seed: int = 0) -> tuple[dict, object]:
    """The tiny result as written before the bias measures."""
    doc, frame = tiny_result(seed)
    for record in doc["settings"]:
        for name in BIAS:
            record.pop(name, None)
    for name in BIAS:
        doc["scores"].pop(name)
    return doc, frame.drop(columns=list(BIAS))


def test_a_result_without_bias_measures_still_reads_validates_and_shows_blank(tmp_path):
    doc, frame = old()
    path, _ = write_document(tmp_path, doc, frame)
    result = TaskResult.from_file(path)
    assert "own_share" not in result.per_query.columns and result.score("own_share") is None
    check_recomputes(result, str(path))
    cells = [[c.strip() for c in line.split("|")[1:-1]] for line in bias_table(result).splitlines()[2:]]
    assert [row[0] for row in cells] == ["en", "de"] and all(row[2:6] == ["-"] * 4 for row in cells)
    assert cells[0][1] == f"{result.settings[EN_MULTI].values['rank_distance']:.1f}" and cells[0][6] == "0.500"
    (line,) = summary_table([result]).splitlines()[2:]
    assert [c.strip() for c in line.split("|")[1:-1]][-4:] == ["-"] * 4


def test_a_new_result_round_trips_with_its_undefined_values(tmp_path):
    doc, frame = tiny_result(0)
    path, _ = write_document(tmp_path, doc, frame)
    table = read_per_query(path, read_document(path))
    multi = table[table.kind == "multi"]
    assert multi.own_first.isna().sum() == 2 and multi.rank_correlation.isna().sum() == 2 and multi.own_share.notna().all()
    assert table[table.kind != "multi"][list(BIAS)].isna().all().all()
    check_recomputes(TaskResult.from_file(path), str(path))


@pytest.mark.parametrize("edit, needle", [
    (_delete("settings", EN_MULTI, "own_share"), f"field settings[{EN_MULTI}].own_share: missing from a multi setting"),
    (_set("settings", 0, "own_first", 1.0), "field settings[0].own_first: only multi settings have one, this is mono"),
    (_set("settings", 0, "own_first", None), "field settings[0].own_first: only multi settings have one"),
    (_set("settings", EN_MULTI, "rank_correlation", 1.5), f"field settings[{EN_MULTI}].rank_correlation: 1.5 out of range [-1, 1]"),
    (_set("settings", EN_MULTI, "own_share", -0.1), f"field settings[{EN_MULTI}].own_share: -0.1 out of range [0, 1]"),
    (_set("settings", EN_MULTI, "own_first", "1"), f"field settings[{EN_MULTI}].own_first: Input should be a valid number"),
    (_set("scores", "rank_correlation", -2.0), "field scores.rank_correlation: -2.0 out of range [-1, 1]"),
    (_delete("scores", "english_share"), "field scores.english_share: missing (a result has every bias measure or none)"),
    (_delete("scores", "own_share"), "field scores.english_share: own_share is missing, so no bias measure may be stated"),
], ids=[str(i) for i in range(9)])
def test_forged_bias_fields_are_refused(tmp_path, edit, needle):
    doc, frame = tiny_result(0)
    path, _ = write_document(tmp_path, doc, frame)
    refused(edit_json(path, edit), needle)


def test_bias_fields_in_a_result_without_them_are_refused(tmp_path):
    doc, frame = old()
    path, _ = write_document(tmp_path, doc, frame)
    refused(edit_json(path, _set("settings", EN_MULTI, "own_share", 0.5)), f"field settings[{EN_MULTI}].own_share: the result's scores state no bias measure")


@pytest.mark.parametrize("edit, needle", [
    (lambda l: _column(l, "own_share", MULTI_ROW, ""), f"line {MULTI_ROW + 1}, column own_share: '' is not a finite number (a multi row needs one)"),
    (lambda l: _column(l, "own_share", MULTI_ROW, "1.1"), "column own_share: '1.1' is out of range [0, 1]"),
    (lambda l: _column(l, "rank_correlation", MULTI_ROW, "-1.5"), "column rank_correlation: '-1.5' is out of range [-1, 1]"),
    (lambda l: _column(l, "rank_correlation", MULTI_ROW, "nan"), "column rank_correlation: 'nan' is not a finite number"),
    (lambda l: _column(l, "own_first", MULTI_ROW, "0.5"), "column own_first: '0.5' is not 0 or 1"),
    (lambda l: _column(l, "english_share", 1, "0.3"), "line 2, column english_share: '0.3' should be empty (only multi rows have one)"),
    (lambda l: [l[0].replace(",own_first", "")] + [",".join(r.split(",")[:9] + r.split(",")[10:]) for r in l[1:]], "missing column 'own_first'"),
], ids=[str(i) for i in range(7)])
def test_forged_bias_cells_are_refused(tmp_path, edit, needle):
    doc, frame = tiny_result(0)
    path, _ = write_document(tmp_path, doc, frame)
    refused(edit_csv(path, edit), needle)


def test_submit_recomputes_the_bias_measures(tmp_path):
    doc, frame = tiny_result(0)
    doc["settings"][EN_MULTI]["own_share"] += 0.1
    with pytest.raises(XbenchError, match=r"setting multi en->all: own_share does not recompute"):
        check_recomputes(TaskResult(doc, frame), "x.json")
    doc, frame = tiny_result(0)
    doc["settings"][DE_MULTI]["own_first"] = None  # two of its queries have one
    with pytest.raises(XbenchError, match=r"setting multi de->all: own_first does not recompute"):
        check_recomputes(TaskResult(doc, frame), "x.json")
    doc, frame = tiny_result(0)
    doc["scores"]["rank_correlation"] = 0.99
    with pytest.raises(XbenchError, match=r"scores.rank_correlation does not recompute"):
        check_recomputes(TaskResult(doc, frame), "x.json")


def test_descriptive_measures_are_compared_never_judged_and_never_weaken_the_gate():
    a, b = TaskResult(*tiny_result(0)), TaskResult(*tiny_result(1))
    rows = check_task(a, b, Tolerance(max_drop=0.0))
    by_metric = {r.metric: r for r in rows if r.setting is None and r.metric in BIAS}
    assert set(by_metric) == set(BIAS)
    assert {by_metric[m].status for m in ("own_share", "english_share", "own_first")} == {"descriptive"}
    assert by_metric["rank_correlation"].status in ("ok", "regression", "improvement")
    assert by_metric["own_first"].n == 4 and by_metric["own_first"].test == "mcnemar-exact"  # q3 has none: 2 settings x 2 queries
    # the gated metrics' Holm correction is the one without the descriptive measures
    gated = [(r.label, r.metric, r.p_holm) for r in compare_task(a, b) if r.metric not in ("own_share", "english_share", "own_first")]
    without = TaskResult(*_without_descriptive(0)), TaskResult(*_without_descriptive(1))
    assert gated == [(r.label, r.metric, r.p_holm) for r in compare_task(*without)]


def _without_descriptive(seed: int) -> tuple[dict, object]:
    """The tiny result whose descriptive measures compare as nothing (equal and constant)."""
    doc, frame = tiny_result(seed)
    frame = frame.copy()
    multi = frame.kind == "multi"
    for name in ("own_share", "english_share", "own_first"):
        frame.loc[multi, name] = float("nan")
    return doc, frame
