"""The board's language-bias side on hand-made results (no data needed): the bias columns beside
the rank distance, "-" for a submission made before the bias measures, an order they never
change, and the per-language view (one table per task and measure, the pool's own share as the
reference row, escaping) in the Markdown and the page.

Model "new" states, for both tasks, in its multilingual settings:

    query   own_share  english_share  own_first  rank_correlation
    en      0.5        0.5            1.0        0.25
    de      0.25       0.125          None       -0.75

so its task values (macro means over the query languages that have one) are own 0.375, English
0.3125, own first 1.0, rank correlation -0.25. Model "old" is the same kind of result without any
bias measure; the pool holds 5 en and 5 de candidates (pool share 0.5 each).
"""

from __future__ import annotations

import re

from benchmark.leaderboard.biasview import POOL_ROW, tables
from benchmark.leaderboard.html import page
from benchmark.leaderboard.ranking import Entry, board_rows, rank
from benchmark.leaderboard.views import markdown
from benchmark.metrics.aggregate import headline_scores
from benchmark.results import TaskResult
from tests.fixtures.tiny_result import tiny_result

HOSTILE = "<img src=x onerror=alert(1)>'\"&"
BIAS = ("own_share", "english_share", "own_first", "rank_correlation")
STATED = {"en": (0.5, 0.5, 1.0, 0.25), "de": (0.25, 0.125, None, -0.75)}


def result(seed: int, name: str, bias: bool) -> TaskResult:
    doc, frame = tiny_result(seed)
    doc["model"]["name"] = name
    for record in doc["settings"]:
        for key in BIAS:
            record.pop(key, None)
        if bias and record["kind"] == "multi":
            record.update(zip(BIAS, STATED[record["query_lang"]]))
    doc["scores"] = {k: v for k, v in headline_scores(doc["settings"]).items() if bias or k not in BIAS}
    return TaskResult(doc, frame if bias else frame.drop(columns=list(BIAS)))


def entries() -> list[Entry]:
    meta = {"submitted": "2026-01-01", "xbench_version": "0.2.0", "command": None}
    made = {"new": (1, HOSTILE, True), "old": (2, "old-model", False)}
    return rank([Entry(key, meta, {task: result(seed, name, bias) for task in ("xquad-r", "mlqa-r")}) for key, (seed, name, bias) in made.items()])


def test_task_values_are_macro_means_and_old_submissions_have_none():
    rows = {r["key"]: r for r in board_rows(entries())}
    for task in ("xquad-r", "mlqa-r"):
        assert [rows["new"][f"{task}.{k}"] for k in BIAS] == [0.375, 0.3125, 1.0, -0.25]
        assert [rows["old"][f"{task}.{k}"] for k in BIAS] == [None] * 4


def test_columns_beside_the_rank_distance_blank_for_an_old_submission():
    lines = markdown(board_rows(entries()), entries()).splitlines()
    header = next(line for line in lines if line.startswith("| #"))
    titles = [c.strip() for c in header.split("|")[1:-1]]
    at = titles.index("XQuAD-R RD")
    assert titles[at + 1 : at + 5] == ["XQuAD-R own@10", "XQuAD-R en@10", "XQuAD-R own 1st", "XQuAD-R rank ρ"]
    assert titles.index("MLQA-R rank ρ") < titles.index("avg mAP")
    body = [[c.strip() for c in line.split("|")[1:-1]] for line in lines[lines.index(header) + 2:] if line.startswith("| ")]
    old = next(row for row in body if row[1] == "old-model")
    new = next(row for row in body if row[1] != "old-model")
    assert old[at + 1 : at + 5] == ["-"] * 4 and new[at + 1 : at + 5] == ["0.375", "0.312", "1.000", "-0.250"]


def test_bias_never_changes_the_order():
    def order(rows):
        return [(r["key"], r["rank"], r["tied"], r["p_vs_above"]) for r in rows]

    plain = [Entry(e.key, e.meta, {t: result(1 if e.key == "new" else 2, e.model.name, False) for t in e.results}) for e in entries()]
    assert order(board_rows(entries())) == order(board_rows(rank(plain)))


def test_per_language_tables_one_per_task_and_measure():
    made = tables(board_rows(entries()), entries())
    assert [(t.task, t.metric) for t in made] == [(task, m) for task in ("xquad-r", "mlqa-r")
                                                  for m in ("rank_distance", "own_share", "english_share", "own_first", "rank_correlation")]
    own = {t.task: t for t in made if t.metric == "own_share"}["xquad-r"]
    assert own.languages == ("en", "de")
    assert own.rows[0] == (POOL_ROW, (0.5, 0.5))
    assert dict(own.rows[1:]) == {HOSTILE: (0.5, 0.25), "old-model": (None, None)}
    first = {t.task: t for t in made if t.metric == "own_first"}["mlqa-r"]
    assert dict(first.rows) == {HOSTILE: (1.0, None), "old-model": (None, None)}


def test_markdown_and_page_show_the_view_escaped():
    ranked = entries()
    text = markdown(board_rows(ranked), ranked)
    section = text[text.index("## Language bias per query language"):text.index("## Reproduce")]
    assert section.count("### ") == 2 and "Own-language share of the top 10:" in section
    assert "| pool share (reference) | 0.500 | 0.500 |" in re.sub(r" +", " ", section)
    assert "<img" not in section
    html = page(board_rows(ranked), ranked)
    view = html[html.index("<h2 id='bias'>"):html.index("<h2>Per-language results</h2>")]
    assert view.count("<table class='bias'>") == 10 and "<img" not in view and "&lt;img src=x" in view
    assert "<td style='background:hsl(210,55%,75%)' title='0.5000'>0.500</td>" in view  # a share: neutral shade
    assert ">-0.750</td>" in view and view.count("<td class='na'>-</td>") >= 4 * 2 * 2
