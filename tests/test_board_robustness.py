"""The board's perturbed results, on hand-made results (no data needed): what a perturbed result
must be to enter a submission, the robustness view's numbers (hand-computed), and that perturbed
results never change the ranking or the task columns.

Entry A's clean XQuAD-R result has mono mAP 0.8 (both mono settings: AP 0.8, 0.8, 0.8); its
``upper`` run 0.6 (mono en 0.4 each, mono de unchanged 0.8): drop 0.2, relative 0.25. Cross and
multi are unchanged: drop 0.
"""

from __future__ import annotations

import re

import pytest

import benchmark.perturb as perturb
from benchmark.errors import XbenchError
from benchmark.leaderboard.html import page
from benchmark.leaderboard.perturbed import check_perturbed, robustness_rows
from benchmark.leaderboard.ranking import Entry, board_rows, rank
from benchmark.leaderboard.views import markdown
from benchmark.results import TaskResult
from benchmark.results.io import write_document
from tests.fixtures.tiny_result import SETTINGS, tiny_result

HOSTILE = "<b>model|a</b>"
CLEAN = {s: [0.8, 0.8, 0.8] if s[0] == "mono" else [0.5, 0.5, 0.5] for s in SETTINGS}
PERTURBED = {**CLEAN, ("mono", "en", "en"): [0.4, 0.4, 0.4]}
UPPER = {"name": "upper", "version": 1, "changed": {"en": 3, "de": 0}}


class Upper(perturb.Perturbation):
    name, version, description = "upper", 1, "upper-case every query"

    def apply(self, texts, ids, lang, level):
        return [t.upper() for t in texts]


@pytest.fixture(autouse=True)
def known(monkeypatch):
    monkeypatch.setattr(perturb.PERTURBATIONS, "_builtins", {"upper": Upper()})


def result(ap, perturbation=None, task="xquad-r", name=HOSTILE, seed=0) -> TaskResult:
    doc, frame = tiny_result(seed, ap, perturbation)
    doc["task"] = doc["task_definition"]["name"] = task
    doc["model"]["name"] = name
    return TaskResult(doc, frame)


def written(folder, ap, perturbation=None, edit=None) -> TaskResult:
    r = result(ap, perturbation)
    doc = r.to_dict()
    if edit:
        edit(doc)
    path, _ = write_document(folder, doc, r.per_query)
    return TaskResult.from_file(path)


def entries(with_perturbed: bool = True) -> list[Entry]:
    meta = {"submitted": "2026-01-01", "xbench_version": "0.2.0", "command": None}
    a = {task: result(CLEAN, task=task) for task in ("xquad-r", "mlqa-r")}
    b = {task: result(None, task=task, name="model-b", seed=5) for task in ("xquad-r", "mlqa-r")}
    perturbed = {"xquad-r~upper": result(PERTURBED, UPPER)} if with_perturbed else {}
    return rank([Entry("a", meta, a, None, perturbed), Entry("b", meta, b)])


def test_drops_per_kind_are_hand_computed():
    rows = {r["kind"]: r for r in robustness_rows(entries())}
    assert set(rows) == {"mono", "cross", "multi"}
    mono = rows["mono"]
    assert (mono["task"], mono["perturbation"], mono["model"]) == ("xquad-r", "upper", HOSTILE)
    assert mono["clean"] == pytest.approx(0.8) and mono["perturbed"] == pytest.approx(0.6)
    assert mono["drop"] == pytest.approx(0.2) and mono["relative_drop"] == pytest.approx(0.25)
    assert rows["cross"]["drop"] == 0.0 and rows["multi"]["relative_drop"] == 0.0


def test_perturbed_results_never_change_the_ranking_or_the_columns():
    assert board_rows(entries(True)) == board_rows(entries(False))


def test_views_show_the_drops_escaped():
    ranked = entries()
    rows, robust = board_rows(ranked), robustness_rows(ranked)
    text = markdown(rows, ranked, robust)
    section = text[text.index("## Robustness"):text.index("## Reproduce")]
    line = next(line for line in section.splitlines() if "upper" in line)
    assert [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] == [r"&lt;b&gt;model\|a&lt;/b&gt;", "upper", "0.200 (25.0%)", "0.000 (0.0%)", "0.000 (0.0%)"]
    assert "## Robustness" not in markdown(rows, ranked)
    html = page(rows, ranked)
    table = re.search(r"<table class='robust'>.*?</table>", html).group()
    assert "&lt;b&gt;model|a&lt;/b&gt;" in table and "<b>model" not in table
    assert "0.200<br><small>25.0%</small>" in table and "title='XQuAD-R mono: clean 0.8000, perturbed 0.6000, drop 0.2000 (25.0%)'" in table
    assert table.count("<tr><td class='name'>") == 1  # model-b has no perturbed run: no row
    assert "No entry has perturbed runs yet" in page(board_rows(entries(False)), entries(False))


def _fingerprint(doc):
    doc["model"]["fingerprint"] = "ef" * 32


def _version(doc):
    doc["perturbation"]["version"] = 2


def _unknown(doc):
    doc["perturbation"].update(name="shout", key="shout")


def _data(doc):
    doc["data"]["checksums"]["tiny/en.json"] = "9" * 64


@pytest.mark.parametrize("edit, message", [
    (_fingerprint, "not the run of {clean} with perturbed queries: different models (model.fingerprint: "),
    (_version, "perturbation upper is version 2, this xbench has version 1"),
    (_unknown, "perturbation.key: unknown perturbation 'shout'"),
    (_data, "not the run of {clean} with perturbed queries: different data (checksum of tiny/en.json)"),
])
def test_a_perturbed_result_must_be_the_clean_run_perturbed(tmp_path, edit, message):
    clean = written(tmp_path, CLEAN)
    perturbed = written(tmp_path, PERTURBED, UPPER, edit)
    with pytest.raises(XbenchError) as caught:
        check_perturbed(perturbed, {"xquad-r": clean})
    assert str(caught.value).startswith(f"{perturbed.path}: ") and message.format(clean=clean.path) in str(caught.value)


def test_a_perturbed_result_needs_its_clean_result_and_the_same_queries(tmp_path):
    clean = written(tmp_path, CLEAN)
    perturbed = written(tmp_path, PERTURBED, UPPER)
    check_perturbed(perturbed, {"xquad-r": clean})  # the pair is accepted
    with pytest.raises(XbenchError, match="no clean xquad-r.json in the submission"):
        check_perturbed(perturbed, {})
    other = tmp_path / "other"
    other.mkdir()
    fewer = TaskResult(*tiny_result(0, {s: v[:2] for s, v in PERTURBED.items()}, UPPER, queries=2))
    doc = fewer.to_dict()
    doc["task"] = doc["task_definition"]["name"] = "xquad-r"
    doc["model"]["name"] = HOSTILE
    path, _ = write_document(other, doc, fewer.per_query)
    with pytest.raises(XbenchError, match="their per-query tables hold different queries"):
        check_perturbed(TaskResult.from_file(path), {"xquad-r": clean})
