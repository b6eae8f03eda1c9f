"""Unit tests of the leaderboard's gatekeeper (benchmark/leaderboard/validate.py): every number a
result states must recompute from the one below it, and the setting set must be the task's."""

from __future__ import annotations

import pytest

from benchmark.engine.settings import Setting
from benchmark.engine.taskdef import parse_definition
from benchmark.errors import XbenchError
from benchmark.leaderboard import validate
from benchmark.metrics.aggregate import headline_scores
from benchmark.engine.settings import protocol_settings
from benchmark.leaderboard.validate import check_recomputes, validate_result
from benchmark.results import TaskResult
from benchmark.results.io import write_document
from tests.fixtures.tiny_result import tiny_result

TINY = {"name": "tiny", "format": "lareqa", "languages": ["en", "de"], "layout": "tiny/{lang}.json",
        "files": {"tiny/en.json": "0" * 64, "tiny/de.json": "1" * 64},
        "metrics": ["map", "rank_distance", "ndcg@10", "recall@100", "mrr@10", "map@100"]}


def consistent(edit=None) -> TaskResult:
    doc, frame = tiny_result(3)
    if edit:
        edit(doc, frame)
    return TaskResult(doc, frame)


def test_a_consistent_result_passes():
    check_recomputes(consistent(), "x.json")


@pytest.mark.parametrize("edit, message", [
    (lambda d, f: d["settings"][0].update(map=d["settings"][0]["map"] + 1e-6), "setting mono en->en: map"),
    (lambda d, f: d["settings"][2].update({"ndcg@10": 0.0}), "setting cross en->de: ndcg@10 does not recompute"),
    (lambda d, f: d["settings"][4].update(rank_distance=d["settings"][4]["rank_distance"] + 1), "setting multi en->all: rank_distance does not recompute"),
    (lambda d, f: d["scores"].update(cross=0.999), "scores.cross does not recompute from the settings"),
    (lambda d, f: d["settings"][1].update(n_queries=2), "setting mono de->de: n_queries 2 but 3 per-query rows"),
    (lambda d, f: f.loc.__setitem__((0, "ap"), 1.0 - f.loc[0, "ap"]), "setting mono en->en: map"),  # a per-query AP edited
])
def test_each_stated_number_must_recompute(edit, message):
    with pytest.raises(XbenchError, match="x.json: " + message.replace("(", r"\(")):
        check_recomputes(consistent(edit), "x.json")


def test_a_difference_within_tolerance_passes():
    check_recomputes(consistent(lambda d, f: d["settings"][0].update(map=d["settings"][0]["map"] * (1 + 1e-12))), "x.json")


def test_expected_settings_enumerate_the_protocol():
    definition = parse_definition(dict(TINY, languages=["en", "de", "zh"]), "t")
    keys = set(protocol_settings(definition.settings, definition.languages))
    assert len(keys) == 3 + 6 + 3
    assert Setting("cross", "zh", "en") in keys and Setting("multi", "de", "all") in keys and Setting("mono", "en", "de") not in keys
    cross_only = parse_definition(dict(TINY, settings=["cross"]), "t")
    assert set(protocol_settings(cross_only.settings, cross_only.languages)) == {Setting("cross", "en", "de"), Setting("cross", "de", "en")}


@pytest.fixture
def tiny_task(monkeypatch):
    definition = parse_definition(TINY, "tiny.toml")
    monkeypatch.setattr(validate, "get_task", lambda name: definition if name == "tiny" else (_ for _ in ()).throw(XbenchError(name)))
    return definition


def written(tmp_path, edit=None):
    doc, frame = tiny_result(3)
    if edit:
        edit(doc, frame)
    return write_document(tmp_path, doc, frame)[0]


def test_validate_result_accepts_a_full_run_without_the_data(tiny_task, tmp_path):
    result = validate_result(written(tmp_path), data_dir=tmp_path / "no-data")
    assert result.task == "tiny" and len(result.settings) == 6


@pytest.mark.parametrize("edit, message", [
    (lambda d, f: d.update(task="nope"), "unknown task 'nope'"),
    (lambda d, f: d["model"].pop("fingerprint"), "model identity incomplete"),
    (lambda d, f: d.update(complete=False), "not a run of the full task"),
    (lambda d, f: d.update(candidate_text="sentence+context"), r"candidate_text 'sentence\+context', the leaderboard uses 'sentence'"),
    (lambda d, f: d["data"].update(official=False), "made with modified data"),
    (lambda d, f: d["data"]["checksums"].update({"tiny/de.json": "2" * 64}), r"data checksums differ from the task's canonical ones \(tiny/de.json\)"),
])
def test_validate_result_refuses_with_one_named_reason(tiny_task, tmp_path, edit, message):
    with pytest.raises(XbenchError, match=message):
        validate_result(written(tmp_path, edit), data_dir=tmp_path / "no-data")


def test_a_missing_setting_is_named(tiny_task, tmp_path):
    doc, frame = tiny_result(3)
    doc["settings"] = doc["settings"][1:]  # mono en->en and its rows gone, the headline recomputed: consistent
    doc["scores"] = headline_scores(doc["settings"])
    path = write_document(tmp_path, doc, frame[~((frame.kind == "mono") & (frame.query_lang == "en"))])[0]
    with pytest.raises(XbenchError, match=r"1 setting\(s\) missing, e.g. mono en->en"):
        validate_result(path, data_dir=tmp_path / "no-data")
