"""The board's Tatoeba side on hand-made results (no data needed): the three accuracy columns, "-"
for an entry without Tatoeba, an order and tie marks that Tatoeba never changes, the per-language
view (language order, cell titles, group markers, escaping), the fields the board refuses without,
and the languages a verify re-run of Tatoeba settings needs.

Three languages, two models with a Tatoeba result, each setting's per-query accuracy given:

    language (group)     model A: xx->eng / eng->xx   model B: xx->eng / eng->xx   mean of the four
    kab (under1000)      1100 -> .50 / 1000 -> .25    0000 -> 0  / 0000 -> 0       .1875
    afr (xtreme36)       1111 -> 1   / 1110 -> .75    1100 -> .50 / 1111 -> 1      .8125
    zsm                  1000 -> .25 / 0000 -> 0      1110 -> .75 / 1111 -> 1      .5

Task order kab, afr, zsm; alphabetical afr, kab, zsm; by mean accuracy afr, zsm, kab.
A: all = (.5 + .25 + 1 + .75 + .25 + 0) / 6 = .458333, xtreme36 = (1 + .75) / 2 = .875,
under1000 = (.5 + .25) / 2 = .375. B: all = 3.25 / 6 = .541667, xtreme36 = .75, under1000 = 0.
"""

from __future__ import annotations

import re

import pytest

from benchmark.engine.settings import Setting
from benchmark.engine.taskregistry import get_task
from benchmark.errors import XbenchError
from benchmark.leaderboard.entries import check_board_fields
from benchmark.leaderboard.html import page
from benchmark.leaderboard.langview import language_order, tatoeba_view
from benchmark.leaderboard.ranking import Entry, board_rows, rank
from benchmark.leaderboard.rerun import Pick, rerun_languages
from benchmark.leaderboard.views import markdown
from benchmark.results import TaskResult
from tests.fixtures.tiny_result import tiny_pivot_result, tiny_result

GROUPS = {"xtreme36": ["afr"], "under1000": ["kab"]}
HOSTILE = "<img src=x onerror=alert(1)>'\"&"
A = {"kab": ([1, 1, 0, 0], [1, 0, 0, 0]), "afr": ([1, 1, 1, 1], [1, 1, 1, 0]), "zsm": ([1, 0, 0, 0], [0, 0, 0, 0])}
B = {"kab": ([0, 0, 0, 0], [0, 0, 0, 0]), "afr": ([1, 1, 0, 0], [1, 1, 1, 1]), "zsm": ([1, 1, 1, 0], [1, 1, 1, 1])}


def tatoeba(accuracy, name="m") -> TaskResult:
    return TaskResult(*tiny_pivot_result(accuracy, GROUPS, name=name))


def lareqa(seed: int, name: str) -> dict[str, TaskResult]:
    results = {}
    for task in ("xquad-r", "mlqa-r"):
        doc, frame = tiny_result(seed)
        doc["model"]["name"] = name
        results[task] = TaskResult(doc, frame)
    return results


def entries(with_tatoeba: bool = True) -> list[Entry]:
    meta = {"submitted": "2026-01-01", "xbench_version": "0.2.0", "command": None}
    made = {"a": lareqa(1, HOSTILE), "b": lareqa(2, "model-b"), "c": lareqa(3, "model-c")}
    if with_tatoeba:
        made["a"]["tatoeba"] = tatoeba(A, HOSTILE)
        made["b"]["tatoeba"] = tatoeba(B, "model-b")
    return rank([Entry(key, meta, results) for key, results in made.items()])


def test_languages_are_ordered_by_mean_accuracy_over_models_and_directions():
    assert language_order([tatoeba(A), tatoeba(B)]) == ["afr", "zsm", "kab"]
    assert language_order([tatoeba(A)]) == ["afr", "kab", "zsm"]  # A alone: .875, .375, .125


def test_tatoeba_columns_and_dash_without_a_run():
    rows = {r["key"]: r for r in board_rows(entries())}
    assert rows["a"]["tatoeba.all"] == pytest.approx(2.75 / 6) and rows["a"]["tatoeba.xtreme36"] == pytest.approx(0.875)
    assert rows["b"]["tatoeba.under1000"] == 0.0 and rows["c"]["tatoeba.all"] is None
    lines = markdown(list(rows.values()), entries()).splitlines()
    header = next(line for line in lines if line.startswith("| #"))
    cells = {line.split("|")[2].strip(): [c.strip() for c in line.split("|")[1:-1]] for line in lines if line.startswith("| ") and line is not header}
    titles = [c.strip() for c in header.split("|")[1:-1]]
    at = [titles.index(f"Tatoeba accuracy {scope}") for scope in ("all", "xtreme36", "under1000")]
    assert [cells["model-b"][i] for i in at] == ["0.542", "0.750", "0.000"]
    assert [cells["model-c"][i] for i in at] == ["-", "-", "-"]
    assert titles.index("avg mAP") < at[0]  # shown after the average it is no part of


def test_tatoeba_never_changes_the_order_or_the_ties():
    def order(rows):
        return [(r["key"], r["rank"], r["tied"], r["p_vs_above"]) for r in rows]

    without, with_ = board_rows(entries(False)), board_rows(entries(True))
    assert order(with_) == order(without)
    # B has the best Tatoeba accuracy and C none: the order is still the LAReQA average's
    assert [r["key"] for r in with_] == [e.key for e in sorted(entries(), key=lambda e: -e.overall)]


def test_the_view_orders_titles_and_marks_every_language():
    ranked = entries()
    html = tatoeba_view(board_rows(ranked), ranked)
    tables = re.findall(r"<table class='langs'>.*?</table>", html)
    assert len(tables) == 2  # one per direction
    for table, direction in zip(tables, ("xx->eng", "eng->xx")):
        assert re.findall(r"<span>(\w+)</span>", table) == ["afr", "zsm", "kab"]
        assert f"<th class='model'>{direction.replace('>', '&gt;')}</th>" in table
        assert len(re.findall(r"<tr class='mark'>", table)) == 2  # xtreme36, under1000
        assert "title='afr: xtreme36'" in table and "title='kab: under1000'" in table and "title='zsm: " not in table
    assert "title='kab xx-&gt;eng 0.500 (under1000)'" in tables[0]
    assert "title='afr eng-&gt;xx 0.750 (xtreme36)'" in tables[1]
    assert "title='zsm eng-&gt;xx 0.000'" in tables[1]
    # each model row: the direction's mean accuracy (A: .583 and .333), then one cell per language
    rows = re.findall(r"<tr><th class='model' title=.*?</tr>", tables[0])
    (row_a,) = [row for row in rows if "&lt;img" in row]
    assert len(rows) == 2 and ">0.58</td>" in row_a and row_a.count("<td") == 1 + 3
    assert "No Tatoeba run: model-c." in html


def test_the_view_escapes_what_a_submission_says():
    ranked = entries()
    text = page(board_rows(ranked), ranked)
    assert "<img" not in text and "onerror=alert(1)>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;&#x27;&quot;&amp;" in text


def test_no_tatoeba_run_on_the_board_says_so():
    ranked = entries(False)
    html = tatoeba_view(board_rows(ranked), ranked)
    assert "No entry has a Tatoeba run yet." in html and "<table" not in html


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.update(languages=["afr", "kab"], complete=False), "complete is false: a run of some languages (afr, kab)"),
    (lambda d: d["aggregates"].pop("under1000"), "aggregates.under1000.accuracy is missing"),
    (lambda d: d["aggregates"]["all"].update(accuracy=None), "aggregates.all.accuracy is missing"),
    (lambda d: d["task_definition"].update(pivot=None), "task_definition.pivot is missing"),
    (lambda d: d["task_definition"].update(metrics=["map"]), "task_definition.metrics lacks 'accuracy'"),
])
def test_the_board_refuses_a_tatoeba_result_it_could_not_show(tmp_path, edit, field):
    doc, frame = tiny_pivot_result(A, GROUPS)
    edit(doc)
    with pytest.raises(XbenchError, match=re.escape(f"t.json: {field}")):
        check_board_fields(TaskResult(doc, frame), tmp_path / "t.json", "tatoeba")


def test_a_tatoeba_re_run_needs_the_language_paired_with_the_pivot():
    definition = get_task("tatoeba")
    picks = [Pick("tatoeba", Setting("cross", "eng", "kab")), Pick("tatoeba", Setting("cross", "afr", "eng")),
             Pick("tatoeba", Setting("cross", "kab", "eng"))]
    assert rerun_languages(tatoeba(A), picks, definition) == ("afr", "kab")  # the task's order, eng never asked for
