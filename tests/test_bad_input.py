"""Bad input never crashes with a traceback: one line naming the culprit, a non-zero exit, no
partial result file, the cache intact."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from tests.conftest import LANGS, write_task_definition

REPO = Path(__file__).resolve().parents[1]


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def one_line_error(result, *needles):
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.stderr.splitlines() if line.startswith("xbench: error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture()
def broken_copy(tmp_path, synthetic):
    """A private copy of the synthetic data and a function that breaks a file and re-pins checksums."""
    root = tmp_path / "data"
    shutil.copytree(synthetic.root / "synth", root / "synth")

    def breaker(mutate) -> Path:
        mutate(root / "synth" / "de.json")
        return write_task_definition(tmp_path / "broken.toml", "broken", root, "synth/{lang}.json", LANGS)

    return root, breaker


def run_args(tmp_path, task, data, model="ngram-hash"):
    return ["run", "--model", model, "--task", str(task), "--data-dir", str(data), "--cache-dir", str(tmp_path / "cache"), "--output", str(tmp_path / "out"), "-q"]


@pytest.mark.parametrize(
    "mutate, needles",
    [
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), ["de.json", "malformed JSON"]),
        (lambda p: p.write_text("{\"data\": [}"), ["de.json", "malformed JSON", "line 1"]),
        (lambda p: p.write_bytes(b"\xff\xfe\x00garbage"), ["de.json", "UTF-8"]),
        (lambda p: p.write_text(json.dumps({"version": "1.1"})), ["de.json", "'data'"]),
    ],
    ids=["truncated", "malformed", "binary", "no-data"],
)
def test_broken_json(tmp_path, broken_copy, mutate, needles):
    root, breaker = broken_copy
    task = breaker(mutate)
    result = invoke(*run_args(tmp_path, task, root))
    assert result.exit_code == 1
    one_line_error(result, *needles)
    assert not (tmp_path / "out" / "broken.json").exists()


def _drop_field(field):
    def mutate(path):
        doc = json.loads(path.read_text())
        del doc["data"][0]["paragraphs"][1][field]
        path.write_text(json.dumps(doc))

    return mutate


def _bad_answer(path):
    doc = json.loads(path.read_text())
    doc["data"][1]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = "seven"
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    "mutate, needles",
    [
        (_drop_field("sentence_breaks"), ["de.json", "data[0].paragraphs[1]", "sentence_breaks"]),
        (_drop_field("context"), ["de.json", "data[0].paragraphs[1]", "context"]),
        (_bad_answer, ["de.json", "data[1].paragraphs[0].qas[0].answers[0].answer_start", "expected int"]),
    ],
    ids=["no-breaks", "no-context", "bad-answer-start"],
)
def test_missing_or_wrong_fields(tmp_path, broken_copy, mutate, needles):
    root, breaker = broken_copy
    result = invoke(*run_args(tmp_path, breaker(mutate), root))
    assert result.exit_code == 1
    one_line_error(result, *needles)


def test_checksum_mismatch_is_an_error_unless_allowed(tmp_path, synthetic):
    root = tmp_path / "data"
    shutil.copytree(synthetic.root / "synth", root / "synth")
    path = root / "synth" / "fr.json"
    doc = json.loads(path.read_text())
    doc["data"][0]["paragraphs"][0]["qas"][0]["question"] += " edited"
    path.write_text(json.dumps(doc))
    result = invoke(*run_args(tmp_path, synthetic.task, root))
    assert result.exit_code == 1
    one_line_error(result, "fr.json", "SHA-256", "--allow-modified-data")
    result = invoke(*run_args(tmp_path, synthetic.task, root), "--allow-modified-data")
    assert result.exit_code == 0, result.stderr
    doc = json.loads((tmp_path / "out" / "synth.json").read_text())
    assert doc["data"]["official"] is False and doc["data"]["modified_files"] == ["synth/fr.json"]


def test_missing_data_says_where_it_looked(tmp_path, synthetic):
    result = invoke(*run_args(tmp_path, synthetic.task, tmp_path / "nowhere"))
    assert result.exit_code == 1
    one_line_error(result, "nowhere", "--data-dir", "XBENCH_DATA")


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--task", "no-such-task"], "unknown task 'no-such-task'"),
        (["--langs", "xx"], "unknown language 'xx'"),
    ],
)
def test_usage_errors_exit_2(tmp_path, synthetic, extra, needle):
    args = ["run", "--model", "ngram-hash", "--data-dir", str(synthetic.root), "--cache-dir", str(tmp_path / "c"), "--output", str(tmp_path / "o")]
    if "--task" not in extra:
        args += ["--task", str(synthetic.task)]
    result = invoke(*args, *extra)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_unknown_model_module_exits_2(tmp_path, synthetic):
    result = invoke(*run_args(tmp_path, synthetic.task, synthetic.root, "no_such_module_xyz:encode"))
    assert result.exit_code == 2
    one_line_error(result, "no_such_module_xyz")


def test_unknown_option_and_missing_model_exit_2():
    assert invoke("run", "--frobnicate").exit_code == 2
    assert invoke("run").exit_code == 2


@pytest.mark.parametrize(
    "attr, needle",
    [
        ("wrong_count", "returned 3"),
        ("wrong_shape", "shape"),
        ("with_nan", "NaN"),
        ("with_inf", "inf"),
        ("all_zero", "all-zero"),
        ("raises", "boom"),
    ],
)
def test_bad_encoder_output(tmp_path, synthetic, attr, needle):
    spec = f"tests.encoders_for_tests:{attr}"
    result = invoke(*run_args(tmp_path, synthetic.task, synthetic.root, spec))
    assert result.exit_code == 1, result.output
    line = one_line_error(result, spec)
    if attr == "wrong_count":
        assert "vectors for" in line
    else:
        assert needle in line
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.json"))


@pytest.mark.parametrize("command", [[], ["run"], ["tasks"], ["submit"], ["leaderboard"], ["compare"], ["check"]])
def test_help_has_examples(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output and "xbench " in result.output.split("Examples:")[1]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_interrupt_mid_run_keeps_cache_and_writes_no_result(tmp_path, synthetic, sig):
    """SIGKILL or Ctrl-C during encoding: finished flushes stay in the cache, no result or temp
    file is left, and the re-run encodes only what was missing."""
    calls = tmp_path / "calls.log"
    # a second per call: the signal must land mid-encoding even when this process's polling is slow
    # (a full suite's busy interpreter); at 0.4 s the run sometimes finished before it was sent
    env = dict(os.environ, XBENCH_TEST_CALLS=str(calls), XBENCH_TEST_SLEEP="1.0", PYTHONPATH=str(REPO))
    cache, out = tmp_path / "cache", tmp_path / "out"
    cmd = [sys.executable, "-m", "benchmark", "run", "--model", "tests.encoders_for_tests:slow", "--task", str(synthetic.task),
           "--data-dir", str(synthetic.root), "--cache-dir", str(cache), "--output", str(out), "-q"]
    # small flushes so that several complete before the kill
    env["XBENCH_FLUSH_SIZE"] = "16"
    # the child gets SIGINT's default disposition, as from a shell: a test process whose SIGINT is
    # ignored (seen in full-suite runs: the child inherited it and ran to the end, rc 0) must not
    # pass that on, or Python in the child never installs its KeyboardInterrupt handler
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    while time.time() < deadline and (not calls.exists() or len(calls.read_text().split()) < 3):
        time.sleep(0.05)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert b"interrupted" in stderr and b"Traceback" not in stderr
    assert not out.exists() or not list(out.iterdir())
    shards = list(cache.rglob("*.npz"))
    assert shards and not list(cache.rglob("*.tmp"))
    encoded_before = sum(int(x) for x in calls.read_text().split())
    calls.write_text("")
    env["XBENCH_TEST_SLEEP"] = "0"
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "synth.json").read_text())
    total = result["encoding"]["unique_query_texts"] + result["encoding"]["unique_candidate_texts"]
    assert result["encoding"]["cache_hits"] > 0
    assert result["encoding"]["encoded"] == total - result["encoding"]["cache_hits"]
    assert sum(int(x) for x in calls.read_text().split()) == result["encoding"]["encoded"] < encoded_before + total


def test_corrupt_cache_shard_is_recomputed(tmp_path, synthetic):
    args = run_args(tmp_path, synthetic.task, synthetic.root, "tests.encoders_for_tests:ngram_counts")
    assert invoke(*args).exit_code == 0
    first = json.loads((tmp_path / "out" / "synth.json").read_text())
    shard = sorted((tmp_path / "cache").rglob("*.npz"))[0]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    second = json.loads((tmp_path / "out" / "synth.json").read_text())
    assert second["encoding"]["corrupt_cache_shards"] == 1 and second["encoding"]["encoded"] > 0
    assert second["settings"] == first["settings"]
