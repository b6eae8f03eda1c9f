"""A weight-free baseline: hashed character n-gram counts.

It needs no model download, runs anywhere in seconds and is deterministic across machines (crc32,
not Python's salted ``hash``), which makes it the encoder of the integration tests on real data.
As a retriever it is a lexical baseline: strong within a language, near chance across scripts.
With ``similarity="dot"`` its scores are small integers, exact in any summation order.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

import numpy as np

from .identity import ModelIdentity


class NgramHashEncoder:
    def __init__(self, dim: int = 512, n: int = 3, similarity: str = "cosine", options: Any = None, **_: Any) -> None:
        self.dim, self.n, self.similarity = int(dim), int(n), similarity
        self.name = f"ngram-hash-{self.n}-{self.dim}"

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.name}/crc32/v1".encode()).hexdigest()

    def identity(self) -> ModelIdentity:
        return ModelIdentity(self.name, "builtin", self.fingerprint, self.similarity)

    def encode(self, texts: list[str], role: str = "passage") -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f" {text.lower()} "
            for i in range(max(1, len(padded) - self.n + 1)):
                out[row, zlib.crc32(padded[i : i + self.n].encode("utf-8")) % self.dim] += 1.0
        return out
