"""No traceback reaches a user: every command over a corpus of malformed inputs.

Each case runs one command (in process, through click's CliRunner, as `xbench` would) and must end
with exit code 1 or 2, exactly one ``xbench: error:`` line as the last line of stderr, no
traceback, and not the CLI's catch-all "internal error" line (that is the last line of defence; a
user's mistake deserves a message that names it). A few cases also run as real subprocesses.

Cases from every part of issue 8 are in the table: options, task files, models, HTTP servers,
result files (the schema), per-query tables and boards.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.encoders import openai_http
from tests.conftest import LANGS, write_task_definition
from tests.fixtures.bitext_files import bitext_fields, write_pair, write_task_toml

REPO = Path(__file__).resolve().parents[1]
BOARD_SUBMISSION = REPO / "leaderboard" / "submissions" / "ngram-hash-3-512__0e42a98ee57c"


# --- the corpus ---------------------------------------------------------------------------------

def _edit_json(folder: Path, name: str, mutate) -> None:
    path = folder / name
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc))


def _edit_per_query(folder: Path, task: str, transform) -> None:
    """Rewrite a per-query table with ``transform(bytes) -> bytes`` and re-pin its SHA-256."""
    pq = folder / f"{task}.per_query.csv.gz"
    blob = transform(pq.read_bytes())
    pq.write_bytes(blob)
    _edit_json(folder, f"{task}.json", lambda d: d["per_query"].update(sha256=hashlib.sha256(blob).hexdigest()))


def _regzip(edit):
    def transform(blob: bytes) -> bytes:
        text = edit(gzip.decompress(blob).decode())
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
            gz.write(text.encode())
        return buffer.getvalue()

    return transform


def _drop_column(name):
    def edit(text: str) -> str:
        rows = [line.split(",") for line in text.splitlines()]
        i = rows[0].index(name)
        return "\n".join(",".join(r[:i] + r[i + 1:]) for r in rows) + "\n"

    return edit


def _set_ap(value: str):
    def edit(text: str) -> str:
        rows = [line.split(",") for line in text.splitlines()]
        i = rows[0].index("ap")
        for r in rows[1:]:
            r[i] = value
        return "\n".join(",".join(r) for r in rows) + "\n"

    return edit


RESULT_VARIANTS = {
    "schema-99": lambda d: d.update(schema_version=99),
    "model-string": lambda d: d.update(model="a string"),
    "model-name-list": lambda d: d["model"].update(name=["x"]),
    "scores-list": lambda d: d.update(scores=[1, 2]),
    "settings-strings": lambda d: d.update(settings=["mono", "cross"]),
    "setting-map-string": lambda d: d["settings"][0].update(map="high"),
    "settings-missing": lambda d: d.pop("settings"),
    "per-query-missing": lambda d: d.pop("per_query"),
    "per-query-string": lambda d: d.update(per_query="synth.per_query.csv.gz"),
    "per-query-absolute": lambda d: d["per_query"].update(file="/etc/hostname"),
    "per-query-traversal": lambda d: d["per_query"].update(file="../../../etc/hostname"),
    "per-query-sha-wrong": lambda d: d["per_query"].update(sha256="0" * 64),
    "task-int": lambda d: d.update(task=5),
    "task-missing": lambda d: d.pop("task"),
    "languages-string": lambda d: d.update(languages="en"),
    "data-string": lambda d: d.update(data="canonical"),
    "candidate-text-int": lambda d: d.update(candidate_text=3),
    "top-level-list": None,  # replaced below by a JSON list
}
PER_QUERY_VARIANTS = {
    "pq-not-gzip": lambda blob: b"kind,query_lang\nmono,en\n",
    "pq-binary": lambda blob: os.urandom(512),
    "pq-no-ap-column": _regzip(_drop_column("ap")),
    "pq-nan-ap": _regzip(_set_ap("")),  # how pandas writes NaN
    "pq-text-ap": _regzip(_set_ap("high")),
    "pq-empty": lambda blob: b"",
    "pq-truncated": lambda blob: blob[: len(blob) // 2],
}
SUBMISSION_VARIANTS = {
    "sub-model-string": lambda d: d.update(model="a string"),
    "sub-parameters-string": lambda d: d["model"].update(parameters="many"),
    "sub-per-query-absolute": lambda d: d["per_query"].update(file="/etc/hostname"),
    "sub-scores-list": lambda d: d.update(scores=[]),
    "sub-settings-null": lambda d: d.update(settings=None),
}
JUNK = {
    "garbage.json": b"{not json at all",
    "binary.json": bytes(range(256)) * 4,
    "empty.json": b"",
    "list.json": b"[1, 2, 3]",
    "null.json": b"null",
    "string.json": b'"a result"',
    "deep.json": b"[" * 100_000,
    "utf16.json": '{"schema_version": 1}'.encode("utf-16"),
}


class Corpus(dict):
    """Named paths, substituted into each case's arguments as ``{name}``."""

    def args(self, template: list[str]) -> list[str]:
        return [part.format(**self) for part in template]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, synthetic) -> Corpus:
    base = tmp_path_factory.mktemp("corpus")
    c = Corpus(base=str(base), task=str(synthetic.task), data=str(synthetic.root), beir=str(synthetic.beir_task))
    good = base / "good"
    result = CliRunner().invoke(main, ["run", "--model", "ngram-hash", "--task", c["task"], "--data-dir", c["data"],
                                       "--cache-dir", str(base / "cache"), "--output", str(good), "-q"])
    assert result.exit_code == 0, result.output
    c.update(good=str(good), good_json=str(good / "synth.json"), cache=str(base / "cache"))

    (base / "a-file").write_text("not a folder")
    (base / "empty").mkdir()
    c.update(file=str(base / "a-file"), empty=str(base / "empty"), missing=str(base / "does-not-exist"))

    for name, content in JUNK.items():
        (base / name).write_bytes(content)
        folder = base / f"dir-{name}"
        folder.mkdir()
        (folder / "synth.json").write_bytes(content)
        c[f"junk_{name.replace('.json', '')}"] = str(base / name)
        c[f"dir_{name.replace('.json', '')}"] = str(folder)

    for name, mutate in {**RESULT_VARIANTS, **PER_QUERY_VARIANTS}.items():
        folder = base / name
        shutil.copytree(good, folder)
        if name == "top-level-list":
            (folder / "synth.json").write_text("[" + (folder / "synth.json").read_text() + "]")
        elif name in PER_QUERY_VARIANTS:
            _edit_per_query(folder, "synth", mutate)
        else:
            _edit_json(folder, "synth.json", mutate)
        c[name.replace("-", "_")] = str(folder)
    missing_pq = base / "pq-file-missing"
    shutil.copytree(good, missing_pq)
    (missing_pq / "synth.per_query.csv.gz").unlink()
    c["pq_file_missing"] = str(missing_pq)
    other_task = base / "other-task"
    shutil.copytree(good, other_task)
    _edit_json(other_task, "synth.json", lambda d: d.update(task="other"))
    c["other_task"] = str(other_task)

    # submissions (copies of a real board entry, broken), and boards
    for name, mutate in SUBMISSION_VARIANTS.items():
        folder = base / name
        shutil.copytree(BOARD_SUBMISSION, folder)
        _edit_json(folder, "xquad-r.json", mutate)
        c[name.replace("-", "_")] = str(folder)
    half = base / "sub-half"
    shutil.copytree(BOARD_SUBMISSION, half)
    (half / "mlqa-r.json").unlink()
    c["sub_half"] = str(half)
    for name, breaker in {
        "board-garbage-meta": lambda s: (s / "submission.json").write_text("{oops"),
        "board-missing-result": lambda s: (s / "xquad-r.json").unlink(),
        "board-model-string": lambda s: _edit_json(s, "xquad-r.json", lambda d: d.update(model="x")),
        "board-binary-per-query": lambda s: (s / "mlqa-r.per_query.csv.gz").write_bytes(os.urandom(64)),
    }.items():
        sub = base / name / "submissions" / BOARD_SUBMISSION.name
        shutil.copytree(BOARD_SUBMISSION, sub)
        breaker(sub)
        c[name.replace("-", "_")] = str(base / name)

    # task definitions and data
    for name, text in {
        "toml_garbage": "name = ",
        "toml_binary": "\udcff",
        "toml_types": synthetic.task.read_text().replace('languages = ["en", "de", "fr"]', 'languages = "en"'),
        "toml_placeholder": synthetic.task.read_text().replace("{lang}", "{foo}"),
        "toml_settings": synthetic.task.read_text().replace("[files]", "settings = []\n[files]"),
        "toml_files_list": synthetic.task.read_text().split("[files]")[0] + 'files = ["x"]\n',
        "toml_format": synthetic.task.read_text().replace('format = "lareqa"', 'format = "nonesuch"'),
    }.items():
        path = base / f"{name}.toml"
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        c[name] = str(path)
    (base / "dir.toml").mkdir()
    c["toml_dir"] = str(base / "dir.toml")
    os.mkfifo(base / "fifo.toml")  # opening it would block forever
    c["toml_fifo"] = str(base / "fifo.toml")
    (base / "blocked" / "synth.json").mkdir(parents=True)
    c["blocked"] = str(base / "blocked")
    for name, content in {"garbage": b"{[", "binary": b"\xff\xfe\x00\x01junk", "truncated": None, "empty": b"", "wrongtypes": b'{"data": "x"}'}.items():
        root = base / f"data-{name}"
        shutil.copytree(synthetic.root / "synth", root / "synth")
        target = root / "synth" / "de.json"
        target.write_bytes(content if content is not None else target.read_bytes()[:300])
        write_task_definition(base / f"task-{name}.toml", f"broken-{name}", root, "synth/{lang}.json", LANGS)
        c[f"data_{name}"], c[f"task_{name}"] = str(root), str(base / f"task-{name}.toml")
    # bitext (a pivot task): a broken side of a pair, pinned, and a definition that breaks a pivot rule
    for name, (own, fields) in {"lines": (["un", "deux"], {}), "notutf8": (b"\xff\n", {}), "blank": (["un", " "], {}),
                                "pivotlisted": (["un"], {"languages": ["fra", "eng"]}), "mono": (["un"], {"settings": ["mono"]})}.items():
        root = base / f"data-bitext-{name}"
        write_pair(root, "fra", "eng", own, ["one"])
        write_task_toml(base / f"task-bitext-{name}.toml", root, bitext_fields(f"bitext-{name}", ["fra"], **fields))
        c[f"data_bitext_{name}"], c[f"task_bitext_{name}"] = str(root), str(base / f"task-bitext-{name}.toml")
    return c


RUN = ["run", "--task", "{task}", "--data-dir", "{data}", "--cache-dir", "{cache}", "--output", "{base}/out", "-q"]
NGRAM = [*RUN, "--model", "ngram-hash"]


def _data_run(name: str) -> list[str]:
    return ["run", "--model", "ngram-hash", "--task", f"{{task_{name}}}", "--data-dir", f"{{data_{name}}}",
            "--cache-dir", "{cache}", "--output", "{base}/out", "-q"]


CASES = [
    # ---- run: options
    ("run-no-model", ["run"]),
    ("run-unknown-option", [*NGRAM, "--frobnicate"]),
    ("run-extra-argument", [*NGRAM, "stray"]),
    ("run-empty-model", [*RUN, "--model", ""]),
    ("run-unknown-module", [*RUN, "--model", "no_such_module_zz:encode"]),
    ("run-missing-attr", [*RUN, "--model", "tests.encoders_for_tests:nonesuch"]),
    ("run-nan-encoder", [*RUN, "--model", "tests.encoders_for_tests:with_nan"]),
    ("run-model-dir-missing", [*RUN, "--model", "{missing}/model"]),
    ("run-model-is-empty-dir", [*RUN, "--model", "{empty}"]),
    ("run-model-nul", [*RUN, "--model", "bad\x00model"]),
    ("run-model-not-utf8", [*RUN, "--model", "m\udcff"]),
    ("run-openai-no-name", [*RUN, "--model", "openai:"]),
    ("run-api-base-ftp", [*RUN, "--model", "openai:m", "--api-base", "ftp://host/v1"]),
    ("run-api-base-garbage", [*RUN, "--model", "openai:m", "--api-base", "garbage"]),
    ("run-api-base-spaces", [*RUN, "--model", "openai:m", "--api-base", "http://a b/v1"]),
    ("run-api-base-no-host", [*RUN, "--model", "openai:m", "--api-base", "http://user:pw@/v1"]),
    ("run-api-base-bad-port", [*RUN, "--model", "openai:m", "--api-base", "http://host:http/v1"]),
    ("run-api-base-empty", [*RUN, "--model", "openai:m", "--api-base", ""]),
    ("run-unreachable-server", [*RUN, "--model", "openai:m", "--api-base", "http://127.0.0.1:9/v1"]),
    ("run-langs-unknown", [*NGRAM, "--langs", "xx"]),
    ("run-langs-empty", [*NGRAM, "--langs", ",,"]),
    ("run-batch-zero", [*NGRAM, "--batch-size", "0"]),
    ("run-batch-text", [*NGRAM, "--batch-size", "many"]),
    ("run-max-length-negative", [*NGRAM, "--max-length", "-3"]),
    ("run-memory-budget-tiny", [*NGRAM, "--memory-budget", "1"]),
    ("run-candidate-text-bogus", [*NGRAM, "--candidate-text", "paragraph"]),
    ("run-pooling-bogus", [*NGRAM, "--pooling", "max"]),
    ("run-prompt-not-utf8", [*NGRAM, "--query-prompt", "q\udcff"]),
    ("run-output-under-file", ["run", "--model", "ngram-hash", "--task", "{task}", "--data-dir", "{data}", "--cache-dir", "{cache}",
                               "--output", "{file}/out", "-q"]),
    ("run-output-is-file", ["run", "--model", "ngram-hash", "--task", "{task}", "--data-dir", "{data}", "--output", "{file}", "-q"]),
    ("run-cache-under-file", ["run", "--model", "ngram-hash", "--task", "{task}", "--data-dir", "{data}", "--cache-dir", "{file}/c",
                              "--output", "{base}/out", "-q"]),
    # ---- run: tasks and data
    ("run-task-unknown", ["run", "--model", "ngram-hash", "--task", "no-such-task", "-q"]),
    ("run-task-file-missing", ["run", "--model", "ngram-hash", "--task", "{missing}.toml", "-q"]),
    ("run-task-is-dir", ["run", "--model", "ngram-hash", "--task", "{toml_dir}", "-q"]),
    ("run-task-garbage", ["run", "--model", "ngram-hash", "--task", "{toml_garbage}", "-q"]),
    ("run-task-binary", ["run", "--model", "ngram-hash", "--task", "{toml_binary}", "-q"]),
    ("run-task-wrong-types", ["run", "--model", "ngram-hash", "--task", "{toml_types}", "-q"]),
    ("run-task-placeholder", ["run", "--model", "ngram-hash", "--task", "{toml_placeholder}", "-q"]),
    ("run-task-empty-settings", ["run", "--model", "ngram-hash", "--task", "{toml_settings}", "-q"]),
    ("run-task-files-list", ["run", "--model", "ngram-hash", "--task", "{toml_files_list}", "-q"]),
    ("run-task-unknown-format", ["run", "--model", "ngram-hash", "--task", "{toml_format}", "--data-dir", "{data}", "-q",
                                 "--output", "{base}/out", "--cache-dir", "{cache}"]),
    ("run-task-fifo", ["run", "--model", "ngram-hash", "--task", "{toml_fifo}", "-q"]),
    ("run-output-holds-a-folder", ["run", "--model", "ngram-hash", "--task", "{task}", "--data-dir", "{data}", "--cache-dir", "{cache}",
                                   "--output", "{blocked}", "-q"]),
    ("run-batch-huge", [*NGRAM, "--batch-size", "1000000000000"]),
    ("run-model-sys-exit", [*RUN, "--model", "sys:exit"]),
    ("run-task-nul", ["run", "--model", "ngram-hash", "--task", "x\x00.toml", "-q"]),
    ("run-data-dir-missing", ["run", "--model", "ngram-hash", "--task", "{task}", "--data-dir", "{missing}", "--output", "{base}/out", "-q"]),
    ("run-data-dir-is-file", ["run", "--model", "ngram-hash", "--task", "{task}", "--data-dir", "{file}", "-q"]),
    ("run-data-dir-empty", ["run", "--model", "ngram-hash", "--task", "{task}", "--data-dir", "{empty}", "-q"]),
    ("run-data-garbage", _data_run("garbage")),
    ("run-data-binary", _data_run("binary")),
    ("run-data-truncated", _data_run("truncated")),
    ("run-data-empty", _data_run("empty")),
    ("run-data-wrong-types", _data_run("wrongtypes")),
    ("run-data-modified", ["run", "--model", "ngram-hash", "--task", "{task}", "--data-dir", "{data_garbage}", "-q",
                           "--output", "{base}/out", "--cache-dir", "{cache}"]),
    *[(f"run-bitext-{name}", _data_run(f"bitext_{name}")) for name in ("lines", "notutf8", "blank", "pivotlisted", "mono")],
    ("run-metrics-unknown", [*NGRAM, "--metrics", "bleu@4"]),
    ("run-metrics-empty", [*NGRAM, "--metrics", ","]),
    ("run-metrics-huge-cutoff", [*NGRAM, "--metrics", "recall@99999999999999999999"]),
    ("run-metrics-not-utf8", [*NGRAM, "--metrics", "map@\udcff"]),
    # ---- tasks
    ("tasks-extra-argument", ["tasks", "stray"]),
    ("tasks-name-is-dir", ["tasks", "{toml_dir}"]),
    ("tasks-name-garbage-toml", ["tasks", "{toml_garbage}"]),
    ("tasks-unknown-option", ["tasks", "--verbose"]),
    ("tasks-data-dir-is-file", ["tasks", "--data-dir", "{file}"]),
    # ---- submit
    ("submit-no-argument", ["submit"]),
    ("submit-missing-dir", ["submit", "{missing}", "--board", "{base}/board"]),
    ("submit-file-not-dir", ["submit", "{file}", "--board", "{base}/board"]),
    ("submit-empty-dir", ["submit", "{empty}", "--board", "{base}/board"]),
    ("submit-garbage-json", ["submit", "{dir_garbage}", "--board", "{base}/board"]),
    ("submit-half", ["submit", "{sub_half}", "--board", "{base}/board", "--data-dir", "{empty}"]),
    ("submit-synthetic-task", ["submit", "{good}", "--board", "{base}/board", "--data-dir", "{empty}"]),
    ("submit-model-string", ["submit", "{sub_model_string}", "--board", "{base}/board", "--data-dir", "{empty}"]),
    ("submit-parameters-string", ["submit", "{sub_parameters_string}", "--board", "{base}/board", "--data-dir", "{empty}"]),
    ("submit-per-query-absolute", ["submit", "{sub_per_query_absolute}", "--board", "{base}/board", "--data-dir", "{empty}"]),
    ("submit-scores-list", ["submit", "{sub_scores_list}", "--board", "{base}/board", "--data-dir", "{empty}"]),
    ("submit-settings-null", ["submit", "{sub_settings_null}", "--board", "{base}/board", "--data-dir", "{empty}"]),
    ("submit-board-is-file", ["submit", "{good}", "--board", "{file}"]),
    # ---- leaderboard
    ("leaderboard-format-bogus", ["leaderboard", "--format", "xml"]),
    ("leaderboard-board-is-file", ["leaderboard", "--board", "{file}"]),
    ("leaderboard-garbage-meta", ["leaderboard", "--board", "{board_garbage_meta}", "--format", "csv"]),
    ("leaderboard-missing-result", ["leaderboard", "--board", "{board_missing_result}", "--format", "md"]),
    ("leaderboard-model-string", ["leaderboard", "--board", "{board_model_string}", "--format", "json"]),
    ("leaderboard-binary-per-query", ["leaderboard", "--board", "{board_binary_per_query}", "--format", "csv"]),
    ("leaderboard-extra-argument", ["leaderboard", "stray"]),
    # ---- compare
    ("compare-no-arguments", ["compare"]),
    ("compare-one-argument", ["compare", "{good}"]),
    ("compare-missing", ["compare", "{good}", "{missing}"]),
    ("compare-empty-dir", ["compare", "{good}", "{empty}"]),
    ("compare-alpha-out-of-range", ["compare", "{good}", "{good}", "--alpha", "2"]),
    ("compare-test-bogus", ["compare", "{good}", "{good}", "--test", "wilcoxon"]),
    ("compare-no-common-task", ["compare", "{good}", "{other_task}"]),
    ("compare-task-filter-empty", ["compare", "{good}", "{good}", "--task", "nonesuch"]),
    *[(f"compare-junk-{name[:-5]}", ["compare", "{good_json}", f"{{junk_{name[:-5]}}}"]) for name in JUNK],
    *[(f"compare-dir-junk-{name[:-5]}", ["compare", "{good}", f"{{dir_{name[:-5]}}}"]) for name in JUNK],
    *[(f"compare-{name}", ["compare", "{good}", f"{{{name.replace('-', '_')}}}"]) for name in [*RESULT_VARIANTS, *PER_QUERY_VARIANTS]],
    ("compare-pq-file-missing", ["compare", "{good}", "{pq_file_missing}"]),
    # ---- check
    ("check-no-baseline", ["check", "--candidate", "{good}"]),
    ("check-neither", ["check", "--baseline", "{good}"]),
    ("check-both", ["check", "--baseline", "{good}", "--candidate", "{good}", "--model", "ngram-hash"]),
    ("check-baseline-missing", ["check", "--baseline", "{missing}", "--candidate", "{good}"]),
    ("check-baseline-empty", ["check", "--baseline", "{empty}", "--candidate", "{good}"]),
    ("check-max-drop-negative", ["check", "--baseline", "{good}", "--candidate", "{good}", "--max-drop", "-1"]),
    ("check-sample-zero", ["check", "--baseline", "{good}", "--model", "ngram-hash", "--sample", "0"]),
    ("check-junit-under-file", ["check", "--baseline", "{good}", "--candidate", "{good}", "--junit", "{file}/x.xml"]),
    ("check-other-task", ["check", "--baseline", "{good}", "--candidate", "{other_task}"]),
    ("check-model-metrics-unknown", ["check", "--baseline", "{good}", "--model", "ngram-hash", "--metrics", "hits@3"]),
    ("check-model-bad-api-base", ["check", "--baseline", "{good}", "--model", "openai:m", "--api-base", "nope"]),
    ("check-model-output-under-file", ["check", "--baseline", "{good}", "--model", "ngram-hash", "--task", "{task}",
                                       "--data-dir", "{data}", "--output", "{file}/o"]),
    *[(f"check-junk-{name[:-5]}", ["check", "--baseline", "{good}", "--candidate", f"{{dir_{name[:-5]}}}"]) for name in JUNK],
    *[(f"check-{name}", ["check", "--baseline", "{good}", "--candidate", f"{{{name.replace('-', '_')}}}"])
      for name in [*RESULT_VARIANTS, *PER_QUERY_VARIANTS]],
    ("check-baseline-nan-ap", ["check", "--baseline", "{pq_nan_ap}", "--candidate", "{good}"]),
    # ---- verify
    ("verify-no-argument", ["verify"]),
    ("verify-missing", ["verify", "{missing}"]),
    ("verify-file-not-dir", ["verify", "{file}"]),
    ("verify-empty-dir", ["verify", "{empty}"]),
    ("verify-sample-zero", ["verify", "{good}", "--sample", "0"]),
    ("verify-unregistered-task", ["verify", "{good}", "--seed", "1"]),
    *[(f"verify-junk-{name[:-5]}", ["verify", f"{{dir_{name[:-5]}}}", "--seed", "1"]) for name in JUNK],
    *[(f"verify-{name}", ["verify", f"{{{name.replace('-', '_')}}}", "--seed", "1"]) for name in [*RESULT_VARIANTS, *PER_QUERY_VARIANTS]],
    # ---- the group
    ("main-unknown-command", ["frobnicate"]),
    ("main-unknown-option", ["--frobnicate"]),
]

@pytest.fixture()
def fast_http(monkeypatch):
    monkeypatch.setattr(openai_http, "RETRIES", 0)
    monkeypatch.setattr(openai_http, "TIMEOUT", 1.0)
    monkeypatch.delenv("XBENCH_DEBUG", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def assert_one_line_failure(exit_code: int, stdout: str, stderr: str, exception: BaseException | None = None) -> str:
    assert exception is None or isinstance(exception, SystemExit), f"uncaught {type(exception).__name__}: {exception}"
    assert "Traceback" not in stdout + stderr, stderr
    assert exit_code in (1, 2), (exit_code, stdout[-500:], stderr[-500:])
    lines = stderr.rstrip("\n").splitlines()
    errors = [line for line in lines if line.startswith("xbench: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], stderr
    assert "internal error" not in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize("case_id, template", [pytest.param(i, t, id=i) for i, t in CASES])
def test_malformed_input_gives_one_line(corpus, fast_http, tmp_path, case_id, template):
    board = f"{corpus['base']}/board"  # each case submits to a board of its own
    args = [str(tmp_path / "board") if arg == board else arg for arg in corpus.args(template)]
    result = CliRunner().invoke(main, args)
    assert_one_line_failure(result.exit_code, result.stdout, result.stderr, result.exception)


def test_the_corpus_is_broad():
    assert len(CASES) >= 60 and len({i for i, _ in CASES}) == len(CASES)
    commands = {t[0] for _, t in CASES}
    assert {"run", "tasks", "submit", "leaderboard", "compare", "check", "verify"} <= commands


@pytest.mark.parametrize("command", [[], ["run"], ["tasks"], ["submit"], ["leaderboard"], ["compare"], ["check"], ["verify"]])
def test_help_of_every_command(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Traceback" not in result.output and "Usage:" in result.output


SUBPROCESS_CASES = [
    ["run", "--model", "ngram-hash", "--api-base", "not a url", "-q"],
    ["compare", "{junk_binary}", "{junk_garbage}"],
    ["run", "--model", "ngram-hash", "--task", "{toml_types}", "-q"],
    ["run", "--model", "no_such_module_zz:encode", "--task", "{task}", "--data-dir", "{data}", "-q", "--output", "{base}/sp"],
]


@pytest.mark.parametrize("template", SUBPROCESS_CASES, ids=["api-base", "compare-junk", "toml", "module"])
def test_real_process_prints_one_line(corpus, template):
    """Through a real interpreter: what reaches the terminal is one line, and the exit code."""
    env = {k: v for k, v in os.environ.items() if k != "XBENCH_DEBUG"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-m", "benchmark", *corpus.args(template)], capture_output=True, text=True,
                          cwd=corpus["base"], env=env, timeout=120)
    assert_one_line_failure(done.returncode, done.stdout, done.stderr)


def test_debug_mode_shows_the_traceback(corpus, monkeypatch):
    monkeypatch.setenv("XBENCH_DEBUG", "1")
    result = CliRunner().invoke(main, corpus.args(["run", "--model", "ngram-hash", "--task", "{toml_types}", "-q"]))
    assert result.exception is not None and not isinstance(result.exception, SystemExit)


def test_unexpected_exceptions_become_one_internal_error_line(monkeypatch):
    """The catch-all: a bug is still one line (saying so), exit 1; XBENCH_DEBUG=1 re-raises it."""
    monkeypatch.delenv("XBENCH_DEBUG", raising=False)

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("benchmark.engine.taskregistry.available_tasks", bug)
    result = CliRunner().invoke(main, ["tasks"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip() == ("xbench: error: internal error: ZeroDivisionError: a bug "
                                     "(XBENCH_DEBUG=1 shows the traceback; please report it)")
    monkeypatch.setenv("XBENCH_DEBUG", "1")
    assert isinstance(CliRunner().invoke(main, ["tasks"]).exception, ZeroDivisionError)
