"""Every bad option is one line: --api-base, unwritable --output / --cache-dir (checked before any
encoding), task definitions with wrong types, languages left empty by skipping, and encoders that
raise SystemExit or other BaseExceptions."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
import uuid

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from tests.conftest import LANGS, write_task_definition
from tests.fake_http import LocalServer, answering

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(result, code, *needles):
    """Exactly one stderr line, ``xbench: error: ...``, holding every needle; no traceback."""
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output and "internal error" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("xbench: error:")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def run_args(tmp_path, synthetic, model="ngram-hash", task=None, output=None, cache=None):
    return ["run", "--model", model, "--task", task or synthetic.task, "--data-dir", synthetic.root,
            "--cache-dir", cache or tmp_path / "cache", "--output", output or tmp_path / "out", "-q"]


# --- --api-base -------------------------------------------------------------------------------

@pytest.mark.parametrize("base", ["ftp://host/v1", "garbage", "http://", "http:// host/v1", "http://host:99999/v1", "http://[::1/v1",
                                  "", "host:8000/v1", "http://host/v1\n", "file:///etc/passwd", "javascript:alert(1)", "http://:80/v1"])
def test_invalid_api_base_is_bad_usage(tmp_path, synthetic, base):
    result = invoke(*run_args(tmp_path, synthetic, model="openai:m"), "--api-base", base)
    one_line_error(result, 2, "--api-base")
    assert not (tmp_path / "out").exists()


def test_invalid_api_base_is_refused_whatever_the_model(tmp_path, synthetic):
    one_line_error(invoke(*run_args(tmp_path, synthetic), "--api-base", "nope"), 2, "--api-base")


def test_invalid_openai_base_url_variable_is_named(tmp_path, synthetic, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:8000")
    one_line_error(invoke(*run_args(tmp_path, synthetic, model="openai:m")), 2, "$OPENAI_BASE_URL")


# --- unwritable --output / --cache-dir, checked before encoding --------------------------------

@pytest.fixture()
def marker_model(tmp_path, monkeypatch):
    """An encoder that leaves a file behind when (and only when) it is asked to encode."""
    name = f"marker_{uuid.uuid4().hex[:8]}"
    mods = tmp_path / "mods"
    mods.mkdir()
    marker = tmp_path / "encoded.marker"
    (mods / f"{name}.py").write_text(textwrap.dedent(f"""
        import numpy as np
        def encode(texts):
            open({str(marker)!r}, "a").close()
            return np.ones((len(texts), 4), dtype=np.float32) + np.arange(len(texts))[:, None]
        """))
    monkeypatch.syspath_prepend(str(mods))
    return f"{name}:encode", marker


@pytest.mark.parametrize("option", ["--output", "--cache-dir"])
def test_path_under_a_file_is_refused_before_encoding(tmp_path, synthetic, marker_model, option):
    spec, marker = marker_model
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    args = run_args(tmp_path, synthetic, model=spec, **{option.strip("-").replace("-dir", ""): blocker / "sub" / "dir"})
    one_line_error(invoke(*args), 2, option, "a-file", "not a folder")
    assert not marker.exists()


def test_output_that_is_a_file_is_refused(tmp_path, synthetic):
    target = tmp_path / "taken"
    target.write_text("x")
    one_line_error(invoke(*run_args(tmp_path, synthetic, output=target)), 2, "--output")


def test_default_output_is_checked_too(tmp_path, synthetic, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").write_text("a file where the default results/ folder would go")
    args = ["run", "--model", "ngram-hash", "--task", synthetic.task, "--data-dir", synthetic.root, "--cache-dir", tmp_path / "c", "-q"]
    one_line_error(invoke(*args), 2, "default --output", "results")


def test_cache_from_the_environment_is_named(tmp_path, synthetic, monkeypatch, marker_model):
    spec, marker = marker_model
    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("XBENCH_CACHE", str(tmp_path / "f" / "cache"))
    args = ["run", "--model", spec, "--task", synthetic.task, "--data-dir", synthetic.root, "--output", tmp_path / "o", "-q"]
    one_line_error(invoke(*args), 2, "$XBENCH_CACHE")
    assert not marker.exists()


@pytest.mark.skipif(IS_ROOT, reason="root writes into read-only folders")
@pytest.mark.parametrize("option", ["--output", "--cache-dir"])
def test_read_only_folder_is_refused_before_encoding(tmp_path, synthetic, marker_model, option):
    spec, marker = marker_model
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        args = run_args(tmp_path, synthetic, model=spec, **{option.strip("-").replace("-dir", ""): locked / "x"})
        one_line_error(invoke(*args), 2, option, "cannot write")
    finally:
        locked.chmod(0o755)
    assert not marker.exists()


def test_output_folder_is_not_created_by_the_check(tmp_path, synthetic):
    """The check creates nothing: a run refused for another reason leaves no empty folder behind."""
    result = invoke(*run_args(tmp_path, synthetic, model="no_such_module_q:encode", output=tmp_path / "new" / "deep"))
    assert result.exit_code == 2
    assert not (tmp_path / "new").exists()


# --- task definitions ---------------------------------------------------------------------------

TOML_MUTATIONS = [
    ('languages = ["en", "de", "fr"]', 'languages = "en"', "'languages'"),
    ('languages = ["en", "de", "fr"]', 'languages = [1, 2]', "'languages'"),
    ('languages = ["en", "de", "fr"]', 'languages = []', "'languages'"),
    ('languages = ["en", "de", "fr"]', 'languages = ["en", "../de"]', "'languages'"),
    ('languages = ["en", "de", "fr"]', 'languages = ["en", "all"]', "'languages'"),
    ('layout = "synth/{lang}.json"', 'layout = "synth/{foo}.json"', "'layout'"),
    ('layout = "synth/{lang}.json"', 'layout = "synth/{lang}/{0}.json"', "'layout'"),
    ('layout = "synth/{lang}.json"', 'layout = "synth/{lang.json"', "'layout'"),
    ('layout = "synth/{lang}.json"', 'layout = "/abs/{lang}.json"', "'layout'"),
    ('layout = "synth/{lang}.json"', 'layout = "../{lang}.json"', "'layout'"),
    ('layout = "synth/{lang}.json"', 'layout = 7', "'layout'"),
    ('name = "synth"', 'name = ["synth"]', "'name'"),
    ('name = "synth"', 'name = "../../evil"', "'name'"),
    ('format = "lareqa"', 'format = 3', "'format'"),
    ("[files]", 'settings = []\n[files]', "'settings'"),
    ("[files]", 'settings = "mono"\n[files]', "'settings'"),
    ("[files]", 'settings = ["mono", "bilingual"]\n[files]', "'settings'"),
    ("[files]", 'metrics = "map"\n[files]', "'metrics'"),
    ("[files]", 'metrics = [1]\n[files]', "'metrics'"),
    ("[files]", 'metrics = ["ndcg@x"]\n[files]', "'metrics'"),
    ("[files]", 'candidate_text = ["sentence"]\n[files]', "'candidate_text'"),
    ("[files]", 'version = {a = 1}\n[files]', "'version'"),
    ("[files]", 'source = "github"\n[files]', "'source'"),
    ("[files]", 'description = 5\n[files]', "'description'"),
    ("[files]", 'setings = ["mono"]\n[files]', "'setings'"),
    ("[files]", 'files = ["a"]\n[source]\nurl = "http://x/{name}"\n[files]', "'files'"),
    ("[files]", '[source]\nurl = "http://x/{name}"\n[files]', "'source.url'"),
    ("[files]", "[files]\n\"/etc/passwd\" = \"" + "a" * 64 + "\"", "'files'"),
    ("[files]", "[files]\n\"synth/x.json\" = 5", "'files'"),
    ("[files]", "[files]\n\"synth/x.json\" = \"not-a-sha\"", "'files'"),
]


@pytest.mark.parametrize("old, new, needle", TOML_MUTATIONS, ids=[m[1][:30] for m in TOML_MUTATIONS])
def test_task_definition_with_wrong_types_names_the_field(tmp_path, synthetic, old, new, needle):
    text = synthetic.task.read_text()
    assert old in text
    task = tmp_path / "bad.toml"
    task.write_text(text.replace(old, new, 1))
    result = invoke(*run_args(tmp_path, synthetic, task=task))
    one_line_error(result, 1, "bad.toml", needle)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00\x01", b"name = ", b"x = [" * 5000, b"[files\n"], ids=["binary", "truncated", "deep", "header"])
def test_task_definition_that_is_not_toml(tmp_path, synthetic, content):
    task = tmp_path / "junk.toml"
    task.write_bytes(content)
    one_line_error(invoke(*run_args(tmp_path, synthetic, task=task)), 1, "junk.toml")


# --- languages left empty by skipping -------------------------------------------------------------

def _copy_with(tmp_path, synthetic, mutate):
    root = tmp_path / "data"
    shutil.copytree(synthetic.root / "synth", root / "synth")
    path = root / "synth" / "de.json"
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc))
    return root, write_task_definition(tmp_path / "edited.toml", "edited", root, "synth/{lang}.json", LANGS)


def _unanswerable(doc, keep=0):
    """Move every answer (after the first ``keep`` questions) outside all sentences: they are skipped."""
    seen = 0
    for article in doc["data"]:
        for par in article["paragraphs"]:
            for qa in par["qas"]:
                seen += 1
                if seen > keep:
                    qa["answers"][0]["answer_start"] = len(par["context"]) + 5


def test_a_language_with_no_answerable_question_is_an_error(tmp_path, synthetic):
    root, task = _copy_with(tmp_path, synthetic, _unanswerable)
    args = ["run", "--model", "ngram-hash", "--task", task, "--data-dir", root, "--cache-dir", tmp_path / "c", "--output", tmp_path / "o", "-q"]
    one_line_error(invoke(*args), 1, "de.json", "language de", "no questions", "skipped")
    assert not (tmp_path / "o" / "edited.json").exists()


def test_a_language_with_no_candidates_is_an_error(tmp_path, synthetic):
    def no_sentences(doc):
        for article in doc["data"]:
            for par in article["paragraphs"]:
                par["sentence_breaks"] = []
                par["sentences"] = []

    root, task = _copy_with(tmp_path, synthetic, no_sentences)
    args = ["run", "--model", "ngram-hash", "--task", task, "--data-dir", root, "--cache-dir", tmp_path / "c", "--output", tmp_path / "o", "-q"]
    one_line_error(invoke(*args), 1, "language de")


def test_partial_skipping_is_warned_and_recorded(tmp_path, synthetic, caplog):
    root, task = _copy_with(tmp_path, synthetic, lambda doc: _unanswerable(doc, keep=5))
    args = ["run", "--model", "ngram-hash", "--task", task, "--data-dir", root, "--cache-dir", tmp_path / "c", "--output", tmp_path / "o", "-q"]
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    assert "skipped 10 of 15 question(s) of de" in caplog.text
    doc = json.loads((tmp_path / "o" / "edited.json").read_text())
    assert doc["counts"]["skipped_queries"]["de"] > 0 and doc["counts"]["queries"]["de"] == 5
    assert {("mono", "de", "de"), ("multi", "de", "all")} <= {(s["kind"], s["query_lang"], s["corpus_lang"]) for s in doc["settings"]}


# --- encoders that raise what they should not ---------------------------------------------------

HOSTILE = {
    "exit_on_import": "import sys\nsys.exit(0)\ndef encode(texts):\n    return None\n",
    "exit_in_init": "import sys\nclass Enc:\n    def __init__(self):\n        sys.exit(3)\n    def encode(self, texts):\n        return None\n",
    "exit_in_encode": "import sys\ndef encode(texts):\n    sys.exit(0)\n",
    "exit_none_in_encode": "def encode(texts):\n    raise SystemExit\n",
    "base_exception": "class Weird(BaseException):\n    pass\ndef encode(texts):\n    raise Weird('odd')\n",
    "generator_exit": "def encode(texts):\n    raise GeneratorExit('gone')\n",
    "bad_similarity_property": "class Enc:\n    @property\n    def similarity(self):\n        raise SystemExit(1)\n    def encode(self, texts):\n        return None\n",
    "module_getattr": "def __getattr__(name):\n    raise SystemExit('no ' + name)\n",
    "unprintable": "class E(Exception):\n    def __str__(self):\n        raise ValueError\ndef encode(texts):\n    raise E()\n",
}
ATTR = {"exit_in_init": "Enc", "bad_similarity_property": "Enc", "module_getattr": "anything"}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_encoder_raising_system_exit_or_base_exception_names_the_model(tmp_path, synthetic, monkeypatch, case):
    name = f"hostile_{case}_{uuid.uuid4().hex[:6]}"
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / f"{name}.py").write_text(HOSTILE[case])
    monkeypatch.syspath_prepend(str(mods))
    spec = f"{name}:{ATTR.get(case, 'encode')}"
    result = invoke(*run_args(tmp_path, synthetic, model=spec))
    one_line_error(result, 1, spec)
    assert not (tmp_path / "out" / "synth.json").exists()


def test_ctrl_c_in_an_encoder_is_still_an_interrupt(tmp_path, synthetic, monkeypatch):
    name = f"hostile_ctrlc_{uuid.uuid4().hex[:6]}"
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / f"{name}.py").write_text("def encode(texts):\n    raise KeyboardInterrupt\n")
    monkeypatch.syspath_prepend(str(mods))
    result = invoke(*run_args(tmp_path, synthetic, model=f"{name}:encode"))
    assert result.exit_code == 130 and "interrupted" in result.stderr


# --- other options --------------------------------------------------------------------------------

@pytest.mark.parametrize("option", ["--query-prompt", "--passage-prompt", "--model"])
def test_option_text_that_is_not_utf8_is_refused(tmp_path, synthetic, option):
    args = run_args(tmp_path, synthetic)
    if option == "--model":
        args[args.index("--model") + 1] = "bad\udcffname"
    else:
        args += [option, "q\udcff: "]
    one_line_error(invoke(*args), 2, option)


# --- a hostile embedding server -------------------------------------------------------------------

def hostile(mode: str):
    """An answer to every POST the way ``mode`` says: wrong types, redirects, huge or trickling bodies."""
    import time

    def answer(request):
        n = len(request.json_body()["input"])

        def vectors(make):
            return json.dumps({"data": [{"index": i, "embedding": make(i)} for i in range(n)], "usage": [1]}).encode()

        try:
            if mode == "ok-odd-usage":
                request.send(200, vectors(lambda i: [1.0, i + 1.0]))
            elif mode == "string-numbers":
                request.send(200, vectors(lambda i: ["1", "2"]))
            elif mode == "bigint":
                request.send(200, vectors(lambda i: [10**400, 1]))
            elif mode == "bool-index":
                request.send(200, json.dumps({"data": [{"index": True if i == 1 else i, "embedding": [1, 2]} for i in range(n)]}).encode())
            elif mode == "redirect":
                request.send(307, b"", ("Location", "http://evil.example/steal?api_key=LOCATIONSECRET"))
            elif mode == "deep":
                request.send(200, b"[" * 100_000)
            elif mode in ("huge", "gzip-bomb"):
                body = b" " * (4 << 20)
                if mode == "gzip-bomb":
                    import gzip
                    request.send(200, gzip.compress(body), ("Content-Encoding", "gzip"))
                else:
                    request.send(200, body)
            elif mode == "trickle":
                request.send_response(200)
                request.send_header("Content-Length", "1000")
                request.end_headers()
                for _ in range(40):
                    request.wfile.write(b" ")
                    request.wfile.flush()
                    time.sleep(0.1)
        except OSError:
            pass

    return answer


@pytest.mark.parametrize("mode, needle", [
    ("ok-odd-usage", None),
    ("string-numbers", "not a list of numbers"),
    ("bigint", "out of range"),
    ("bool-index", "indices"),
    ("redirect", "redirects are not followed"),
    ("deep", "unreadable JSON body"),
    ("huge", "larger than 1 MiB"),
    ("gzip-bomb", "larger than 1 MiB"),
    ("trickle", "not complete after 1 s"),
])
def test_hostile_server_is_one_error_naming_the_model(monkeypatch, mode, needle):
    from benchmark.encoders import EncoderOptions, openai_http
    from benchmark.errors import XbenchError

    monkeypatch.setattr(openai_http, "RETRIES", 0)
    monkeypatch.setattr(openai_http, "DEADLINE", 1.0)
    monkeypatch.setattr(openai_http, "MAX_BODY", 1 << 20)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-hostile")
    with LocalServer(answering(hostile(mode), "HTTP/1.1")) as server:
        encoder = openai_http.OpenAIEncoder("m", EncoderOptions(api_base=f"{server.url}/v1"))
        if needle is None:
            assert encoder.encode(["a", "b"], "query").shape == (2, 2)
            return
        with pytest.raises(XbenchError, match=needle) as caught:
            encoder.encode(["a", "b"], "query")
    assert "openai:m" in str(caught.value) and "LOCATIONSECRET" not in str(caught.value)


def test_sys_exit_with_the_texts_is_a_short_line(tmp_path, synthetic):
    """`--model sys:exit` calls sys.exit(texts): the error names the model without printing every text."""
    line = one_line_error(invoke(*run_args(tmp_path, synthetic, model="sys:exit")), 1, "model sys:exit", "sys.exit(")
    assert len(line) < 400 and line.endswith("...)")


@pytest.mark.parametrize("option, value", [("--batch-size", "1000000000000"), ("--max-length", "100000000000000000000"),
                                           ("--memory-budget", "10000000000000")])
def test_absurd_sizes_are_bad_usage(tmp_path, synthetic, option, value):
    one_line_error(invoke(*run_args(tmp_path, synthetic), option, value), 2, option)
