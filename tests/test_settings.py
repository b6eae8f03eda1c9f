"""The flat index of a task and the settings planned over it (benchmark/engine/settings.py), on the
hand-made task of tests/fixtures/hand_made.py: every offset, row and relevant column by hand."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.engine.corpus import TaskData
from benchmark.engine.settings import ALL, Setting, build_index, plan_settings
from tests.fixtures.hand_made import language, three_languages


@pytest.fixture(scope="module")
def task():
    data = three_languages()
    return data, build_index(data)


def plan_table(plans):
    """label -> (kind, query rows, pool, relevant rows) in plan order."""
    return {
        f"{p.setting.query_lang}->{p.setting.corpus_lang}": (p.setting.kind, p.query_rows.tolist(), (p.pool.start, p.pool.stop), p.relevant.tolist())
        for p in plans
    }


def test_index_lays_languages_out_in_task_order(task):
    data, index = task
    assert index.languages == ("en", "de", "fr")
    assert index.query_ids == ["q1", "q2", "q3", "q1", "q2", "q4"]
    assert index.query_texts[3] == "de question q1" and index.query_texts[5] == "fr question q4"
    assert index.query_langs.tolist() == [0, 0, 0, 1, 1, 2]
    assert index.candidate_texts.texts() == [f"{lang} sentence {lang}{i}" for lang, n in (("en", 3), ("de", 2), ("fr", 3)) for i in range(n)]
    assert index.candidate_offsets == {"en": 0, "de": 3, "fr": 5}
    assert index.candidate_counts == {"en": 3, "de": 2, "fr": 3}


def test_query_blocks_and_pools(task):
    _, index = task
    assert [index.query_block(lang) for lang in ("en", "de", "fr")] == [(0, 3), (3, 5), (5, 6)]
    assert [index.pool_of(lang) for lang in ("en", "de", "fr")] == [slice(0, 3), slice(3, 5), slice(5, 8)]
    assert index.pool_of(ALL) == slice(0, 8)


def test_plan_every_setting_by_hand(task):
    data, index = task
    plans = plan_settings(data, index)
    # per query language: mono, cross in task order, multi; en->fr, de->fr, fr->en, fr->de have no
    # queries (q3 is answered only in English, q4 only in French) and are left out
    assert plan_table(plans) == {
        "en->en": ("mono", [0, 1, 2], (0, 3), [[0, -1], [1, 2], [2, -1]]),
        "en->de": ("cross", [0, 1], (3, 5), [[4], [3]]),
        "en->all": ("multi", [0, 1, 2], (0, 8), [[0, 4, -1], [1, 2, 3], [2, -1, -1]]),
        "de->de": ("mono", [3, 4], (3, 5), [[4], [3]]),
        "de->en": ("cross", [3, 4], (0, 3), [[0, -1], [1, 2]]),
        "de->all": ("multi", [3, 4], (0, 8), [[0, 4, -1], [1, 2, 3]]),
        "fr->fr": ("mono", [5], (5, 8), [[5, 7]]),
        "fr->all": ("multi", [5], (0, 8), [[5, 7]]),
    }
    assert [p.setting for p in plans][:3] == [Setting("mono", "en", "en"), Setting("cross", "en", "de"), Setting("multi", "en", ALL)]
    assert [p.n_queries for p in plans] == [3, 2, 3, 2, 2, 2, 1, 1]
    for p in plans:
        assert p.query_rows.dtype == np.int64 and p.relevant.dtype == np.int64


def test_relevant_columns_lie_in_the_pool(task):
    data, index = task
    for p in plan_settings(data, index):
        columns = p.relevant[p.relevant >= 0]
        assert ((columns >= p.pool.start) & (columns < p.pool.stop)).all(), p.setting.label
        # every row has at least one answer, padding only after the answers
        assert (p.relevant[:, 0] >= 0).all()
        assert all(sorted(row, key=lambda c: c < 0) == row for row in p.relevant.tolist())


@pytest.mark.parametrize("kinds, labels", [
    (("mono",), ["en->en", "de->de", "fr->fr"]),
    (("cross",), ["en->de", "de->en"]),
    (("multi",), ["en->all", "de->all", "fr->all"]),
    (("mono", "multi"), ["en->en", "en->all", "de->de", "de->all", "fr->fr", "fr->all"]),
    ((), []),
])
def test_kinds_filter(task, kinds, labels):
    data, index = task
    plans = plan_settings(data, index, kinds)
    assert [f"{p.setting.query_lang}->{p.setting.corpus_lang}" for p in plans] == labels
    assert {p.setting.kind for p in plans} <= set(kinds)


def test_a_language_without_queries_plans_nothing_of_its_own():
    """zh has candidates (answers to q1) but no queries: it is a target, never a query language."""
    parts = [language("en", ["q1", "q2"], 2, {"q1": (0,), "q2": (1,)}), language("zh", [], 2, {"q1": (1,)})]
    data = TaskData(languages=("en", "zh"), parts={p.part: p for p in parts})
    index = build_index(data)
    lo, hi = index.query_block("zh")
    assert lo == hi == 2  # an empty block, after en's queries
    assert index.candidate_offsets == {"en": 0, "zh": 2}
    assert plan_table(plan_settings(data, index)) == {
        "en->en": ("mono", [0, 1], (0, 2), [[0], [1]]),
        "en->zh": ("cross", [0], (2, 4), [[3]]),
        "en->all": ("multi", [0, 1], (0, 4), [[0, 3], [1, -1]]),
    }


def test_setting_label_and_identity():
    assert Setting("mono", "en", "en").label == "mono en->en"
    assert Setting("cross", "de", "zh").label == "cross de->zh"
    assert Setting("multi", "ar", ALL).label == "multi ar->all"
    # a value: equal settings are one dictionary key, whatever object built them
    assert Setting("cross", "de", "zh") == Setting("cross", "de", "zh")
    assert len({Setting("cross", "de", "zh"): 1, Setting("cross", "de", "zh"): 2}) == 1
    assert Setting("cross", "de", "zh") != Setting("cross", "zh", "de")
