"""The loaded task (benchmark/engine/task.py) and the one enumeration of setting keys
(``protocol_settings``), on the synthetic tasks: what a run, ``xbench tasks``, validation and the
performance benchmark all load their data through."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace

import pytest

from benchmark.engine.catalog import task_counts, tasks_table
from benchmark.engine.datafiles import DataUnavailable
from benchmark.engine.settings import ALL, Setting, protocol_settings
from benchmark.engine.task import load_task
from benchmark.engine.taskdef import load_definition_file
from benchmark.errors import UsageError, XbenchError
from tests.conftest import LANGS, write_task_definition


def test_protocol_settings_enumerates_every_key_in_result_order():
    settings = protocol_settings(("mono", "cross", "multi"), ("en", "de", "fr"))
    assert [s.label for s in settings[:4]] == ["mono en->en", "cross en->de", "cross en->fr", "multi en->all"]
    assert [s.kind for s in settings[:4]] == ["mono", "cross", "cross", "multi"]
    assert len(settings) == len(set(settings)) == 3 + 6 + 3
    assert Setting("multi", "fr", ALL) == settings[-1]
    assert protocol_settings(("cross",), ("en", "de")) == [Setting("cross", "en", "de"), Setting("cross", "de", "en")]
    assert protocol_settings(("mono", "multi"), ("en",)) == [Setting("mono", "en", "en"), Setting("multi", "en", ALL)]
    assert protocol_settings((), ("en", "de")) == []


def test_full_task_loads_every_language_and_plans_every_protocol_setting(synthetic):
    definition = load_definition_file(synthetic.task)
    task = load_task(definition, synthetic.root)
    assert task.languages == LANGS and task.candidate_text == "sentence" and task.files.official
    assert {lang: len(task.data[lang].query_ids) for lang in LANGS} == synthetic.expected["queries"]
    assert dict(task.index.candidate_counts) == synthetic.expected["candidates"]
    assert len(task.index.query_ids) == sum(synthetic.expected["queries"].values())
    assert [p.setting for p in task.plans] == protocol_settings(definition.settings, definition.languages)


def test_partial_task_plans_a_subset_in_protocol_order(synthetic):
    definition = load_definition_file(synthetic.partial_task)
    task = load_task(definition, synthetic.root)
    planned = [p.setting for p in task.plans]
    protocol = protocol_settings(definition.settings, definition.languages)
    assert planned == [s for s in protocol if s in set(planned)]
    for plan in task.plans:  # each planned query has an answer in the setting's corpus language
        if plan.setting.kind != "multi":
            answers = synthetic.expected_partial["relevant"][plan.setting.corpus_lang]
            assert all(task.index.query_ids[r] in answers for r in plan.query_rows)


def test_languages_and_candidate_text_are_chosen_and_checked(synthetic):
    definition = load_definition_file(synthetic.task)
    task = load_task(definition, synthetic.root, langs=("fr", "en"), candidate_text="sentence+context")
    assert task.languages == ("en", "fr") and task.candidate_text == "sentence+context"
    assert [p.setting for p in task.plans] == protocol_settings(definition.settings, ("en", "fr"))
    with pytest.raises(UsageError, match="--langs: task synth has none of xx"):
        load_task(definition, synthetic.root, langs=("xx",))
    with pytest.raises(UsageError, match="--candidate-text"):
        load_task(definition, synthetic.root, candidate_text="paragraph")


def test_sample_keeps_whole_question_ids_and_whole_pools(synthetic):
    definition = load_definition_file(synthetic.task)
    full, sampled = load_task(definition, synthetic.root), load_task(definition, synthetic.root, sample=3, seed=7)
    ids = {lang: set(sampled.data[lang].query_ids) for lang in LANGS}
    assert len(set().union(*ids.values())) == 3 and all(ids[lang] == ids["en"] for lang in LANGS)
    assert sampled.index.candidate_texts.texts() == full.index.candidate_texts.texts()
    assert ids == {lang: set(load_task(definition, synthetic.root, sample=3, seed=7).data[lang].query_ids) for lang in LANGS}


def test_missing_or_modified_data_is_unavailable(synthetic, tmp_path):
    definition = load_definition_file(synthetic.task)
    with pytest.raises(DataUnavailable, match="not found"):
        load_task(definition, tmp_path, download=False)
    first = next(iter(definition.files))
    tampered = replace(definition, files={**definition.files, first: "0" * 64})
    with pytest.raises(DataUnavailable, match="SHA-256 differs"):
        load_task(tampered, synthetic.root)
    assert not load_task(tampered, synthetic.root, allow_modified=True).files.official


@pytest.fixture
def disjoint(synthetic, tmp_path):
    """The synthetic task with no question answered between en and fr (de keeps every question)."""
    root = tmp_path / "data"
    shutil.copytree(synthetic.root / "synth", root / "disjoint")
    for lang, keep in (("en", lambda i: i > 0), ("fr", lambda i: i == 0)):
        path = root / "disjoint" / f"{lang}.json"
        doc = json.loads(path.read_text())
        for article in doc["data"]:
            for par in article["paragraphs"]:
                par["qas"] = [qa for i, qa in enumerate(par["qas"]) if keep(i)]
        path.write_text(json.dumps(doc, sort_keys=True))
    task = write_task_definition(tmp_path / "disjoint.toml", "disjoint", root, "disjoint/{lang}.json", LANGS)
    return load_definition_file(task), root


def test_missing_cross_settings_are_left_out_and_warned_once_by_a_run(disjoint, caplog):
    definition, root = disjoint
    with caplog.at_level(logging.WARNING):
        task = load_task(definition, root)
    assert "no question is answered across en->fr, fr->en" in caplog.text
    planned = {p.setting for p in task.plans}
    assert set(protocol_settings(definition.settings, LANGS)) - planned == {Setting("cross", "en", "fr"), Setting("cross", "fr", "en")}
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        load_task(definition, root, check=False)  # counting (xbench tasks, validation) says nothing
        load_task(definition, root, sample=2)  # a sample leaves settings out by design
    assert caplog.text == ""


def test_an_empty_language_is_refused_by_a_run_and_counted_otherwise(disjoint, tmp_path):
    definition, root = disjoint
    path = root / "disjoint" / "de.json"
    doc = json.loads(path.read_text())
    for article in doc["data"]:
        for par in article["paragraphs"]:
            par["qas"] = []
    path.write_text(json.dumps(doc, sort_keys=True))
    definition = load_definition_file(write_task_definition(tmp_path / "empty.toml", "empty", root, "disjoint/{lang}.json", LANGS))
    with pytest.raises(XbenchError, match="language de of task empty has no questions"):
        load_task(definition, root)
    task = load_task(definition, root, check=False)
    assert task.data.n_queries == len(task.index.query_ids) and not any(p.setting.query_lang == "de" for p in task.plans)


def test_tasks_counts_from_data_and_from_the_definition(synthetic, tmp_path):
    definition = load_definition_file(synthetic.partial_task)
    from_data = task_counts(definition, synthetic.root)
    task = load_task(definition, synthetic.root)
    kinds = [p.setting.kind for p in task.plans]
    declared = {"task": "synthp", "format": "lareqa", "pairing": "all", "pivot": None, "symmetric": False, "languages": ["en", "de", "fr"],
                "groups": {}}
    assert from_data == {**declared, "mono": kinds.count("mono"), "cross": kinds.count("cross"), "multi": kinds.count("multi"),
                         "settings": len(kinds), "queries": task.data.n_queries, "candidates": task.data.n_candidates, "counted": "data"}
    without = task_counts(definition, tmp_path)
    assert without == {**declared, "mono": 3, "cross": 6, "multi": 3, "settings": 12, "queries": None, "candidates": None,
                       "counted": "definition"}
    assert list(without) == list(from_data)  # the same columns in the same order (xbench tasks --json)
    table = tasks_table([from_data, without]).splitlines()
    assert [cell.strip() for cell in table[0].split("|")[1:-1]] == [
        "task", "pairing", "symmetric", "languages", "groups", "mono", "cross", "multi", "settings", "queries", "candidates", "counted from"]
    assert [cell.strip() for cell in table[-1].split("|")[1:-1]] == [
        "synthp", "all", "no", "3", "-", "3", "6", "3", "12", "-", "-", "definition"]


def test_validation_expects_exactly_the_protocol_settings(synthetic):
    """What submit refuses as missing or unexpected is measured against protocol_settings."""
    from benchmark.leaderboard import validate

    definition = load_definition_file(synthetic.task)
    expected = set(protocol_settings(definition.settings, definition.languages))
    canonical = validate._canonical_query_ids(definition, synthetic.root)
    assert set(canonical) == expected
    assert validate._canonical_query_ids(definition, synthetic.root / "nowhere") is None


def test_a_pivot_task_defaults_to_accuracy_and_no_rank_distance():
    """A bitext TOML that names no metrics gets accuracy (the LASER / XTREME measure) and no rank
    distance, which needs a multilingual pool a pivot task does not have."""
    from benchmark.engine.taskdef import PIVOT_METRICS, parse_definition

    raw = {"name": "pairs", "format": "bitext", "languages": ["kab", "bre"], "pairing": "pivot", "pivot": "eng",
           "layout": "v1/pairs.{lang}-{pivot}.{side}", "files": {}}
    definition = parse_definition(raw, "pairs.toml")
    assert definition.metrics == PIVOT_METRICS and "rank_distance" not in definition.metrics
    assert definition.settings == ("cross",) and parse_definition({**raw, "pairing": "all", "pivot": "", "layout": "{lang}.json"}, "x").metrics[1] == "rank_distance"
