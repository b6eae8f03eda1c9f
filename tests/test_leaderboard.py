"""`xbench submit`, `xbench leaderboard` and `xbench compare` on real, full runs (skipped without
the canonical data): accepted submissions render, every tampering is refused with the board left
byte for byte as it was, and views rebuild identically.

ngram-hash's run holds all three tasks (Tatoeba among them when its data is present: the board
shows it), the second model's only the two ranked ones (a board entry without Tatoeba)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import benchmark.perturb as perturb
from benchmark.engine.settings import Setting
from benchmark.fsutil import safe_name
from benchmark.perturb import Perturbation
from benchmark.cli import main
from tests.paths import SHARED_DATA, SHARED_LAREQA, SHARED_TATOEBA

pytestmark = pytest.mark.skipif(SHARED_LAREQA is None, reason="../shared/data/lareqa not present")
needs_tatoeba = pytest.mark.skipif(SHARED_TATOEBA is None, reason="../shared/data/tatoeba not present")
ENV = {"XBENCH_DATA": SHARED_DATA} if SHARED_DATA else {}
LAREQA = ("--task", "xquad-r", "--task", "mlqa-r")


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], env=ENV)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Full runs by two weight-free encoders: ngram-hash of every task (`xbench run` without --task;
    Tatoeba takes about 35 s), the other of the two ranked tasks only."""
    base = tmp_path_factory.mktemp("runs")
    out = {}
    for name, model, tasks in (("hash", "ngram-hash", () if SHARED_TATOEBA else LAREQA), ("counts", "tests.encoders_for_tests:ngram_counts", LAREQA)):
        result = cli("run", "--model", model, *tasks, "--cache-dir", base / "cache", "--output", base / name, "-q")
        assert result.exit_code == 0, result.output
        out[name] = base / name
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} if folder.exists() else {}


@pytest.fixture(scope="module")
def first_board(tmp_path_factory, runs):
    path = tmp_path_factory.mktemp("first-board") / "board"
    result = cli("submit", runs["hash"], "--board", path)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture()
def board(tmp_path, first_board):
    """A board holding the ngram-hash submission (a copy of the one submit made, which validating
    Tatoeba makes worth sharing)."""
    return Path(shutil.copytree(first_board, tmp_path / "board"))


def tampered(tmp_path, runs, edit, task="xquad-r", name="hash"):
    """A copy of a run folder with ``edit(result_dict, per_query_frame)`` applied to one task."""
    copy = tmp_path / f"tampered-{edit.__name__}"
    shutil.copytree(runs[name], copy)
    path = copy / f"{task}.json"
    result = json.loads(path.read_text())
    frame = pd.read_csv(copy / result["per_query"]["file"], compression="gzip", dtype={"query_id": str})
    rewrite = edit(result, frame)  # None: JSON only; "repin": new per-query file and its SHA-256; "raw": new file only
    if isinstance(rewrite, tuple):  # (mode, a replacement frame)
        rewrite, frame = rewrite
    if rewrite:
        text = frame.to_csv(index=False, lineterminator="\n").encode()
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
            gz.write(text)
        (copy / result["per_query"]["file"]).write_bytes(buffer.getvalue())
        if rewrite == "repin":
            result["per_query"]["sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    path.write_text(json.dumps(result))
    return copy


def edit_score(result, frame):
    result["scores"]["mono"] += 0.01


def remove_setting(result, frame):
    result["settings"] = [s for s in result["settings"] if not (s["kind"] == "cross" and s["query_lang"] == "de" and s["corpus_lang"] == "zh")]


def change_checksum(result, frame):
    key = sorted(result["data"]["checksums"])[0]
    result["data"]["checksums"][key] = "0" * 64


def change_per_query_ap(result, frame):
    frame.loc[0, "ap"] = 1.0 if frame.loc[0, "ap"] < 0.5 else 0.0
    return "repin"  # re-pin the per-query file so only the recomputation can catch it


def change_per_query_file(result, frame):
    frame.loc[3, "ap"] = 0.123
    return "raw"


def other_schema(result, frame):
    result["schema_version"] = 99


def out_of_range(result, frame):
    result["settings"][0]["ndcg@10"] = 1.5


def no_identity(result, frame):
    del result["model"]["fingerprint"]
    result["model"].pop("revision", None)


def modified_data(result, frame):
    result["data"]["official"] = False


def fewer_queries(result, frame):
    first = result["settings"][0]
    rows = frame[(frame.kind == first["kind"]) & (frame.query_lang == first["query_lang"]) & (frame.corpus_lang == first["corpus_lang"])]
    frame = frame.drop(index=rows.index[-1])
    first["n_queries"] -= 1
    result["per_query"]["rows"] -= 1
    first["map"] = float(rows.ap.iloc[:-1].mean())
    for name in ("ndcg@10", "recall@100", "mrr@10", "map@100"):
        first[name] = float(rows[name].iloc[:-1].mean())
    from benchmark.metrics.aggregate import headline_scores

    result["scores"] = headline_scores(result["settings"])
    return "repin", frame


def assert_refused_untouched(tmp_path, runs, board, edit, needle, task="xquad-r"):
    """A submission tampered by ``edit`` fails with one error line holding ``needle``, and the
    board is byte for byte what it was."""
    before = snapshot(board)
    result = cli("submit", tampered(tmp_path, runs, edit, task=task), "--board", board)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("xbench: error:")]
    assert len(errors) == 1 and needle in errors[0], result.stderr
    assert snapshot(board) == before


@pytest.mark.parametrize(
    "edit, needle",
    [
        (edit_score, "scores.mono"),
        (remove_setting, "setting(s) missing"),
        (change_checksum, "checksums differ"),
        (change_per_query_ap, "does not recompute from the per-query AP"),
        (change_per_query_file, "SHA-256 differs"),
        (other_schema, "schema_version 99"),
        (out_of_range, "out of range"),
        (no_identity, "model identity"),
        (modified_data, "modified data"),
        (fewer_queries, "the canonical data has 1190 queries"),
    ],
)
def test_tampering_is_refused_and_the_board_is_untouched(tmp_path, runs, board, edit, needle):
    assert_refused_untouched(tmp_path, runs, board, edit, needle)


def forge_tatoeba_aggregate(result, frame):
    result["aggregates"]["under1000"]["accuracy"] += 0.01


def forge_tatoeba_groups(result, frame):
    """under1000 without its worst language, its aggregates recomputed: consistent, but not the task's groups."""
    from benchmark.metrics.aggregate import aggregates

    groups = result["task_definition"]["groups"]
    worst = min(groups["under1000"], key=lambda lang: next(s["accuracy"] for s in result["settings"] if s["query_lang"] == lang))
    groups["under1000"].remove(worst)
    result["aggregates"] = aggregates(result["settings"], result["task_definition"]["metrics"], ["cross"], "eng", groups)


def forge_tatoeba_half_right(result, frame):
    frame.loc[0, "accuracy"] = 0.5
    return "repin"


def forge_tatoeba_hit(result, frame):
    frame.loc[frame.index[frame.accuracy == 0][0], "accuracy"] = 1.0
    return "repin"


def forge_tatoeba_setting(result, frame):
    result["settings"][3]["accuracy"] += 0.001


def drop_tatoeba_setting(result, frame):
    result["settings"] = [s for s in result["settings"] if (s["query_lang"], s["corpus_lang"]) != ("eng", "kab")]


@needs_tatoeba
@pytest.mark.parametrize(
    "edit, needle",
    [
        (forge_tatoeba_aggregate, "tatoeba.json: aggregates.under1000.accuracy does not recompute from the settings"),
        (forge_tatoeba_groups, "tatoeba.json: task_definition.groups is"),
        (forge_tatoeba_half_right, "column accuracy: '0.5' is not 0 or 1"),
        (forge_tatoeba_hit, "tatoeba.json: setting cross afr->eng: accuracy does not recompute from the per-query values"),
        (forge_tatoeba_setting, "tatoeba.json: setting cross eng->amh: accuracy does not recompute from the per-query values"),
        (drop_tatoeba_setting, "tatoeba.json: 1 setting(s) missing, e.g. cross eng->kab"),
    ],
)
def test_a_forged_tatoeba_result_is_refused(tmp_path, runs, board, edit, needle):
    assert_refused_untouched(tmp_path, runs, board, edit, needle, task="tatoeba")


@needs_tatoeba
def test_a_tatoeba_run_of_some_languages_is_refused(tmp_path, runs, board):
    partial = tmp_path / "partial"
    shutil.copytree(runs["hash"], partial)
    result = cli("run", "--model", "ngram-hash", "--task", "tatoeba", "--langs", "kab,ber", "--output", partial, "-q")
    assert result.exit_code == 0, result.output
    before = snapshot(board)
    result = cli("submit", partial, "--board", board)
    assert result.exit_code == 1 and "tatoeba.json: complete is false: a run of some languages (ber, kab)" in result.stderr, result.output
    assert snapshot(board) == before


@needs_tatoeba
def test_tatoeba_columns_and_view_beside_an_entry_without_it(runs, board):
    assert cli("submit", runs["counts"], "--board", board).exit_code == 0
    tatoeba = json.loads((runs["hash"] / "tatoeba.json").read_text())["aggregates"]
    lines = (board / "README.md").read_text().splitlines()
    header = next(line for line in lines if line.startswith("| #"))
    at = [[c.strip() for c in header.split("|")].index(f"Tatoeba accuracy {scope}") for scope in ("all", "xtreme36", "under1000")]
    row = {line.split("|")[2].strip(): line.split("|") for line in lines if line.startswith("| ") and line != header}
    assert [row["ngram-hash-3-512"][i].strip() for i in at] == [f"{tatoeba[s]['accuracy']:.3f}" for s in ("all", "xtreme36", "under1000")]
    assert [row[r"tests.encoders\_for\_tests:ngram\_counts"][i].strip() for i in at] == ["-", "-", "-"]
    page = (board / "index.html").read_text()
    tables = re.findall(r"<table class='langs'>.*?</table>", page)
    assert len(tables) == 2 and all(t.count("<th class='lang'") == 112 and t.count("<tr><th class='model' title=") == 1 for t in tables)
    assert "No Tatoeba run: tests.encoders_for_tests:ngram_counts." in page


def test_accepted_submission_renders(board):
    text = (board / "README.md").read_text()
    assert "ngram-hash-3-512" in text and "XQuAD-R Mono" in text and "xbench run --model ngram-hash" in text
    page = (board / "index.html").read_text()
    parser = TableCounter()
    parser.feed(page)
    assert parser.tables["board"] == 1  # one model row
    assert parser.heatmaps == 2  # one per task
    assert parser.heat_rows == 11 + 7


def test_views_rebuild_byte_identical(board):
    before = snapshot(board)
    for _ in range(2):
        assert cli("leaderboard", "--board", board).exit_code == 0
        assert snapshot(board) == before
    csv = cli("leaderboard", "--board", board, "--format", "csv")
    assert csv.exit_code == 0 and csv.output.splitlines()[0].startswith("rank,tied,")


def test_duplicate_refused_then_replaced_with_history(board, runs):
    before = snapshot(board)
    result = cli("submit", runs["hash"], "--board", board)
    assert result.exit_code == 1 and "already on the board" in result.stderr and "--replace" in result.stderr
    assert snapshot(board) == before
    result = cli("submit", runs["hash"], "--board", board, "--replace")
    assert result.exit_code == 0, result.output
    (key,) = [p.name for p in (board / "submissions").iterdir()]
    assert (board / "history" / key / "1" / "xquad-r.json").is_file()


def test_ranking_and_ties(tmp_path, runs, board):
    # a second, much weaker model: ranked below, not tied
    assert cli("submit", runs["counts"], "--board", board).exit_code == 0
    # the same per-query values under another name: tied with the row above it
    def rename(result, frame):
        result["model"]["name"] = "../../twin/of/ngram"
        result["model"]["fingerprint"] = "f" * 64

    twin = tampered(tmp_path, runs, rename)
    for task in ("mlqa-r", "tatoeba") if (twin / "tatoeba.json").exists() else ("mlqa-r",):
        doc = json.loads((twin / f"{task}.json").read_text())
        doc["model"]["name"], doc["model"]["fingerprint"] = "../../twin/of/ngram", "f" * 64
        (twin / f"{task}.json").write_text(json.dumps(doc))
    result = cli("submit", twin, "--board", board)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (board / "submissions").iterdir())[-1].startswith("twin__of__ngram")
    assert not (tmp_path / "twin").exists()
    rows = json.loads(cli("leaderboard", "--board", board, "--format", "json").output)
    assert [r["model"] for r in rows][2] == "tests.encoders_for_tests:ngram_counts"
    assert rows[1]["tied"] and rows[1]["rank"] == rows[0]["rank"] == 1
    assert not rows[2]["tied"] and rows[2]["rank"] == 3


class Upper(Perturbation):
    name, version, description = "upper", 1, "upper-case every query"

    def apply(self, texts, ids, lang, level):
        return [t.upper() for t in texts]


def with_perturbed(tmp_path: Path, runs, version: int = 1) -> Path:
    """A copy of the second model's run with an 'upper' run of each ranked task beside it: the
    clean result with every AP times 0.9 (every mAP, headline and aggregate recomputed), so each
    kind's drop is a tenth of its clean mAP."""
    from benchmark.metrics.aggregate import aggregates, headline_scores, kinds_of
    from benchmark.results import TaskResult
    from benchmark.results.io import write_document

    copy = Path(shutil.copytree(runs["counts"], tmp_path / "with-perturbed"))
    for task in ("xquad-r", "mlqa-r"):
        clean = TaskResult.from_dir(copy, task)
        doc, frame = clean.to_dict(), clean.per_query.copy()
        frame["ap"] = frame["ap"] * 0.9
        for record in doc["settings"]:
            record["map"] = float(clean.rows(Setting.of(record)).ap.mean() * 0.9)
        doc["scores"] = headline_scores(doc["settings"])
        doc["aggregates"] = aggregates(doc["settings"], doc["task_definition"]["metrics"], kinds_of(doc["settings"]), None, {})
        doc["perturbation"] = {"name": "upper", "version": version, "level": None, "key": "upper", "libraries": {},
                               "changed": {lang: 1 for lang in clean.languages}, "queries": {lang: 1 for lang in clean.languages}}
        write_document(copy, doc, frame)
    return copy


def test_perturbed_runs_are_shown_never_ranked(tmp_path, runs, board, monkeypatch):
    monkeypatch.setattr(perturb.PERTURBATIONS, "_builtins", {"upper": Upper()})
    plain = tmp_path / "plain"
    assert cli("submit", runs["counts"], "--board", shutil.copytree(board, plain)).exit_code == 0
    result = cli("submit", with_perturbed(tmp_path, runs), "--board", board)
    assert result.exit_code == 0, result.output
    (key,) = [p.name for p in (board / "submissions").iterdir() if p.name.startswith("tests")]
    assert (board / "submissions" / key / "xquad-r~upper.per_query.csv.gz").is_file()
    ranked = json.loads(cli("leaderboard", "--board", board, "--format", "json").output)
    assert ranked == json.loads(cli("leaderboard", "--board", plain, "--format", "json").output)  # the same rows, ranks, ties
    readme = (board / "README.md").read_text()
    section = readme[readme.index("## Robustness"):readme.index("## Reproduce")]
    (line,) = [line for line in section.splitlines() if "upper" in line]
    assert line.count("(10.0%)") == 6  # XQuAD-R and MLQA-R, Mono, Cross, Multi: each loses a tenth
    assert "<table class='robust'>" in (board / "index.html").read_text()


def test_a_perturbed_run_of_another_version_is_refused(tmp_path, runs, board, monkeypatch):
    monkeypatch.setattr(perturb.PERTURBATIONS, "_builtins", {"upper": Upper()})
    before = snapshot(board)
    folder = with_perturbed(tmp_path, runs, version=2)
    result = cli("submit", folder, "--board", board)
    assert result.exit_code == 1
    assert f"{folder / 'mlqa-r~upper.json'}: perturbation upper is version 2, this xbench has version 1" in result.stderr
    assert snapshot(board) == before


def test_safe_names():
    assert safe_name("../../etc/passwd") == "etc__passwd"
    assert "/" not in safe_name("a/b/../c") and not safe_name("..").startswith(".")
    assert safe_name("sentence-transformers/all-MiniLM-L6-v2") == "sentence-transformers__all-MiniLM-L6-v2"


def test_compare(runs):
    result = cli("compare", runs["hash"], runs["counts"], "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"xquad-r", "mlqa-r"}
    rows = report["xquad-r"]
    assert rows[0]["kind"] == "mono" and rows[0]["p_holm"] < 0.05
    assert len([r for r in rows if r["query_lang"]]) == 11 + 110 + 11
    same = json.loads(cli("compare", runs["hash"], runs["hash"], "--json", "--task", "mlqa-r").output)
    assert all(r["p"] == 1.0 and r["delta"] == 0.0 for r in same["mlqa-r"])
    table = cli("compare", runs["hash"] / "xquad-r.json", runs["counts"] / "xquad-r.json")
    assert table.exit_code == 0 and "p (Holm)" in table.output


class TableCounter(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self.heatmaps, self.heat_rows = {}, 0, 0
        self._in = None
        self._in_heat_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "board":
            self._in = "board"
            self.tables["board"] = 0
        elif tag == "table" and attrs.get("class") == "heat":
            self.heatmaps += 1
            self._in = "heat"
        elif tag == "tbody" and self._in == "heat":
            self._in_heat_body = True
        elif tag == "tr" and self._in == "board" and self._tbody:
            self.tables["board"] += 1
        elif tag == "tr" and self._in_heat_body:
            self.heat_rows += 1
        if tag == "tbody":
            self._tbody = True

    def handle_endtag(self, tag):
        if tag == "table":
            self._in, self._in_heat_body = None, False
        if tag == "tbody":
            self._tbody = False

    _tbody = False
