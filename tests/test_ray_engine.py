"""``--engine ray`` (issue 12): the same bytes as the local engine, and one-line failures.

One local Ray instance (2 CPUs) serves the module: started once (a few seconds), reused by every
test, the in-process CLI runs included (a process already connected keeps its connection). The
tests that need Ray are skipped, with the reason, only when the ``ray`` extra is not installed;
the test that Ray's absence is a usage error runs either way.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.encoders import EncoderOptions
from benchmark.engine.local_engine import LocalEngine
from benchmark.engine.runner import RunConfig, evaluate_task
from benchmark.engine.taskdef import load_definition_file
from benchmark.errors import UsageError
from benchmark.results.io import frame_to_csv_gz
from benchmark.retrievers import load_model

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="the ray extra is not installed: pip install 'xbench[ray]'")


@pytest.fixture(scope="module")
def ray_engine(tmp_path_factory):
    from benchmark.engine.ray_engine import RayEngine

    # the workers inherit the environment at start: tests.encoders_for_tests:dies_once reads these
    os.environ["XBENCH_TEST_DIE_MARKER"] = str(tmp_path_factory.mktemp("ray-die") / "died")
    os.environ["XBENCH_TEST_DRIVER_PID"] = str(os.getpid())
    engine = RayEngine(workers=2)
    yield engine
    engine.close()
    for name in ("XBENCH_TEST_DIE_MARKER", "XBENCH_TEST_DRIVER_PID"):
        os.environ.pop(name, None)


def run(task, synthetic, engine, cache, shard_size=None, model="ngram-hash", budget=1 << 28):
    config = RunConfig(data_dir=synthetic.root, cache_dir=cache, shard_size=shard_size, engine=engine, memory_budget=budget)
    return evaluate_task(load_definition_file(task), load_model(model), EncoderOptions(), config)


class CountingEngine(LocalEngine):
    """The local engine, counting its scans (one progress tick per block x shard)."""

    scans = 0

    def run(self, scorer, works, shards, memory_budget, progress=lambda n: None):
        def counted(n):
            self.scans += n
            progress(n)
        yield from super().run(scorer, works, shards, memory_budget, counted)


@needs_ray
@pytest.mark.parametrize("task", ["task", "beir_task"])
def test_ray_results_are_byte_identical_to_local(tmp_path, synthetic, ray_engine, task):
    """Per-query tables byte for byte, documents equal but for the run facts: local; Ray with 2
    workers and shards of 3 candidates, encoding into its own cache on the actor pool (tasks scan
    a shard for a group of blocks); Ray with 1 worker, shards of 2 and a 1-byte budget (one task
    per block and shard, one-row blocks), from that cache."""
    from benchmark.engine.ray_engine import RayEngine

    path = getattr(synthetic, task)
    local = run(path, synthetic, None, tmp_path / "local-cache")
    two = run(path, synthetic, ray_engine, tmp_path / "ray-cache", shard_size=3)
    one = run(path, synthetic, RayEngine(workers=1), tmp_path / "ray-cache", shard_size=2, budget=1)
    assert frame_to_csv_gz(local.per_query) == frame_to_csv_gz(two.per_query) == frame_to_csv_gz(one.per_query)
    assert local.reproducible() == two.reproducible() == one.reproducible()
    assert two.encoding["engine"] == "ray" and "engine" not in local.encoding
    assert two.encoding["encoded"] == local.encoding["encoded"] > 0 and sum(two.encoding["ray_nodes"].values()) >= 2
    assert one.encoding["encoded"] == 0 and one.encoding["ray_nodes"] == {}


@needs_ray
def test_a_worker_killed_mid_encode_is_retried(tmp_path, synthetic, ray_engine):
    """The encoding actor's process is killed (SIGKILL) in its first batch: Ray restarts the
    actor and re-runs the batch, the run completes with the local bytes, and a re-run reads
    everything from the cache."""
    model = "tests.encoders_for_tests:dies_once"
    local = run(synthetic.task, synthetic, None, tmp_path / "local-cache", model=model)
    killed = run(synthetic.task, synthetic, ray_engine, tmp_path / "ray-cache", model=model)
    assert os.path.exists(os.environ["XBENCH_TEST_DIE_MARKER"])
    again = run(synthetic.task, synthetic, ray_engine, tmp_path / "ray-cache", model=model)
    assert frame_to_csv_gz(local.per_query) == frame_to_csv_gz(killed.per_query) == frame_to_csv_gz(again.per_query)
    assert killed.encoding["encoded"] == local.encoding["encoded"] and again.encoding["encoded"] == 0


@needs_ray
@pytest.mark.parametrize("model", ["tests.encoders_for_tests:with_nan", "tests.encoders_for_tests:raises"])
def test_a_failing_model_on_ray_gives_the_local_one_line_error(tmp_path, synthetic, ray_engine, model):
    """A model that raises, or whose output is refused: the actor's message is the local run's,
    one line, exit 1."""
    args = ["run", "--model", model, "--task", str(synthetic.task), "--data-dir", str(synthetic.root), "-q"]
    local = CliRunner().invoke(main, [*args, "--cache-dir", str(tmp_path / "a"), "--output", str(tmp_path / "a")])
    on_ray = CliRunner().invoke(main, [*args, "--cache-dir", str(tmp_path / "b"), "--output", str(tmp_path / "b"),
                                       "--engine", "ray"])
    assert local.exit_code == on_ray.exit_code == 1
    assert on_ray.output == local.output and len(on_ray.output.strip().splitlines()) == 1


@needs_ray
def test_every_scan_is_counted_on_its_node(tmp_path, synthetic, ray_engine):
    """The result records which Ray node ran how many scans: here all on the one local node, as
    many as the local engine runs for the same shards."""
    import ray

    counting = CountingEngine()
    run(synthetic.task, synthetic, counting, tmp_path / "cache", shard_size=4)
    ray_engine.usage()  # forget earlier tests' counts
    encoding = run(synthetic.task, synthetic, ray_engine, tmp_path / "cache", shard_size=4).encoding
    assert counting.scans > 10
    assert encoding["ray_search_nodes"] == {ray.get_runtime_context().get_node_id(): counting.scans}
    assert encoding["ray_workers"] == 2


@needs_ray
def test_cli_engine_ray_writes_the_local_bytes(tmp_path, synthetic, ray_engine):
    args = ["run", "--model", "ngram-hash", "--task", str(synthetic.task), "--data-dir", str(synthetic.root),
            "--cache-dir", str(tmp_path / "cache"), "-q"]
    local = CliRunner().invoke(main, [*args, "--output", str(tmp_path / "local")])
    ray_run = CliRunner().invoke(main, [*args, "--output", str(tmp_path / "ray"), "--engine", "ray", "--workers", "2",
                                        "--shard-size", "5"])
    assert local.exit_code == 0 and ray_run.exit_code == 0, ray_run.output
    (a,), (b,) = (list((tmp_path / name).glob("*.per_query.csv.gz")) for name in ("local", "ray"))
    assert a.read_bytes() == b.read_bytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_ray
@pytest.mark.parametrize("address, says", [
    (f"127.0.0.1:{free_port()}", "connection refused"),
    ("no-such-host.invalid:6379", "unknown host no-such-host.invalid"),
    ("ray://127.0.0.1:{port}", "connection refused"),
])
def test_unreachable_address_fails_fast_in_one_line(tmp_path, synthetic, address, says):
    """In a fresh process (this one is connected already): exit 1, one line naming the address,
    in seconds (ray.init alone hangs for minutes on a refused port or an unknown host)."""
    address = address.format(port=free_port())
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "benchmark", "run", "--model", "ngram-hash", "--task", str(synthetic.task),
                           "--data-dir", str(synthetic.root), "--output", str(tmp_path / "out"), "-q",
                           "--engine", "ray", "--ray-address", address], capture_output=True, text=True, timeout=120)
    assert time.monotonic() - began < 30
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"xbench: error: --ray-address {address}: ") and says in line
    assert done.stdout == ""


@needs_ray
@pytest.mark.parametrize("address", ["6379", "host:port", "ray://", ":80"])
def test_malformed_address_is_a_usage_error(address):
    from benchmark.engine.ray_engine import RayEngine

    with pytest.raises(UsageError, match=f"^--ray-address {re.escape(address)}: expected 'auto', HOST:PORT or ray://HOST:PORT$"):
        RayEngine(address=address)


def test_ray_missing_is_a_usage_error(tmp_path, synthetic, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError, as when the extra is absent
    result = CliRunner().invoke(main, ["run", "--model", "ngram-hash", "--task", str(synthetic.task), "--data-dir",
                                       str(synthetic.root), "--output", str(tmp_path / "out"), "-q", "--engine", "ray"])
    assert result.exit_code == 2
    assert result.output.strip() == "xbench: error: --engine ray: Ray is not installed; pip install 'xbench[ray]'"


@needs_ray
def test_a_model_that_fails_to_load_on_a_worker_is_one_line(tmp_path, synthetic, ray_engine):
    """Loaded in the driver, failing in the actors (a node without the weights): one line, in
    seconds (raised from the actor's constructor, Ray Data would retry it for ~18 s)."""
    began = time.monotonic()
    result = CliRunner().invoke(main, ["run", "--model", "tests.encoders_for_tests:LoadsOnlyInDriver", "--task",
                                       str(synthetic.task), "--data-dir", str(synthetic.root), "--cache-dir",
                                       str(tmp_path / "cache"), "--output", str(tmp_path / "out"), "-q", "--engine", "ray"])
    assert result.exit_code == 1 and time.monotonic() - began < 15
    (line,) = result.output.strip().splitlines()
    assert line.startswith("xbench: error: model tests.encoders_for_tests:LoadsOnlyInDriver: ")
    assert "weights not found on this node" in line


def test_what_workers_read_is_named_by_absolute_paths(tmp_path, synthetic, monkeypatch):
    """A Ray Client worker does not share the driver's working directory: a corpus chunk's locator
    and the candidate matrix's chunk files, made from relative paths, read the same from elsewhere."""
    from benchmark.encoders.ngram_hash import NgramHashEncoder
    from benchmark.engine.cache import EmbeddingCache
    from benchmark.engine.chunked import embed_corpus
    from benchmark.engine.formats.beir import scan_corpus

    monkeypatch.chdir(synthetic.root)
    source, _ = scan_corpus(Path("beir/en/corpus.jsonl"), "sentence", set())
    (cache_dir := tmp_path / "here").mkdir()
    monkeypatch.chdir(cache_dir)
    matrix = embed_corpus(NgramHashEncoder(), source, "passage", EncoderOptions(), EmbeddingCache(Path("cache")))
    texts, vectors = [chunk.locator.texts() for chunk in source.chunks()], matrix[0:len(matrix)]
    (elsewhere := tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(elsewhere)
    moved_source, moved_matrix = pickle.loads(pickle.dumps((source, matrix)))
    assert [chunk.locator.texts() for chunk in moved_source.chunks()] == texts and len(texts[0]) > 0
    assert moved_matrix[0:len(moved_matrix)].tobytes() == vectors.tobytes()
