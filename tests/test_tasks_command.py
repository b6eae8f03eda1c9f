"""``xbench tasks``: pairing, symmetry, groups and counts per task, from the definition alone and
from the data (issue 10, "Counts": 224 settings for Tatoeba, 112 languages, 40 in under1000)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from tests.fixtures.bitext_files import bitext_task
from tests.paths import SHARED_DATA, SHARED_TATOEBA


def tasks(*args: str) -> str:
    result = CliRunner().invoke(main, ["tasks", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def table_row(text: str, task: str) -> dict[str, str]:
    """The cells of ``task``'s row of the Markdown table, by header."""
    lines = [line.split("|")[1:-1] for line in text.splitlines()]
    headers = [cell.strip() for cell in lines[0]]
    row = next(cells for cells in lines[2:] if cells[0].strip() == task)
    return dict(zip(headers, (cell.strip() for cell in row)))


def test_tatoeba_counted_from_its_definition():
    row = table_row(tasks("--data-dir", "/nonexistent"), "tatoeba")
    assert row == {"task": "tatoeba", "pairing": "pivot eng", "symmetric": "yes", "languages": "112", "groups": "xtreme36:36 under1000:40",
                   "mono": "0", "cross": "224", "multi": "0", "settings": "224", "queries": "-", "candidates": "-",
                   "counted from": "definition"}
    xquad = table_row(tasks("--data-dir", "/nonexistent"), "xquad-r")
    assert (xquad["pairing"], xquad["symmetric"], xquad["languages"], xquad["groups"], xquad["settings"]) == ("all", "no", "11", "-", "132")


def test_one_task_in_full_lists_languages_and_group_members():
    text = tasks("tatoeba", "--data-dir", "/nonexistent")
    assert "pairing:    pivot eng" in text and "settings:   224 (224 cross; counted from the definition)" in text
    joined = " ".join(text.split())  # the lists are wrapped
    assert "languages: 112: afr amh ang ara" in joined and "yue zsm group xtreme36: 36: afr ara ben" in joined
    under = joined.split("group under1000: 40: ")[1].split()
    assert len(under) == 40 and under[:3] == ["amh", "ang", "arq"] and under[-1] == "yid"


def test_json_holds_the_full_lists():
    rows = {row["task"]: row for row in json.loads(tasks("--json", "--data-dir", "/nonexistent"))}
    tatoeba = rows["tatoeba"]
    assert (tatoeba["pairing"], tatoeba["pivot"], tatoeba["symmetric"], tatoeba["settings"], tatoeba["cross"]) == ("pivot", "eng", True, 224, 224)
    assert len(tatoeba["languages"]) == 112 and "eng" not in tatoeba["languages"]
    assert {name: len(members) for name, members in tatoeba["groups"].items()} == {"xtreme36": 36, "under1000": 40}


def test_a_bitext_definition_file_counted_from_its_data(tmp_path):
    """A user's TOML by path: 2 settings per language, and each line of each side is a query and a
    candidate (4 + 2 + 7 lines, both sides: 26)."""
    toml, root = bitext_task(tmp_path, "mine", {"fra": 4, "kab": 2, "bre": 7}, pivot="deu", groups={"tail": ["kab", "bre"]})
    row = json.loads(tasks(str(toml), "--json", "--data-dir", str(root)))[0]
    assert row == {"task": "mine", "format": "bitext", "pairing": "pivot", "pivot": "deu", "symmetric": True, "languages": ["fra", "kab", "bre"],
                   "groups": {"tail": ["kab", "bre"]}, "mono": 0, "cross": 6, "multi": 0, "settings": 6, "queries": 26, "candidates": 26,
                   "counted": "data"}
    assert "settings:   6 (6 cross; counted from the data; 26 queries, 26 candidates)" in tasks(str(toml), "--data-dir", str(root))


@pytest.mark.skipif(SHARED_TATOEBA is None, reason="the Tatoeba data is not here ($XBENCH_DATA, ../shared/data)")
def test_tatoeba_counted_from_the_real_data():
    """Every line of every file is one query and one candidate: the sum of the files' line counts."""
    lines = sum(len(path.read_bytes().decode("utf-8").split("\n")) - 1 for path in Path(SHARED_TATOEBA, "v1").glob("tatoeba.*-eng.*"))
    row = table_row(tasks("--data-dir", SHARED_DATA), "tatoeba")
    assert (row["settings"], row["languages"], row["groups"], row["counted from"]) == ("224", "112", "xtreme36:36 under1000:40", "data")
    assert row["queries"] == row["candidates"] == str(lines)


def test_unknown_task_name_is_a_usage_error():
    result = CliRunner().invoke(main, ["tasks", "nonesuch"])
    assert result.exit_code == 2 and "unknown task 'nonesuch'; available: " in result.stderr and "tatoeba" in result.stderr
