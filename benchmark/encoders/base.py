"""What an encoder is to xbench, and the checks every encoder's output passes.

An encoder turns texts of one role ("query" or "passage") into vectors; the dense retriever
(:mod:`benchmark.retrievers.dense`) makes scores of them. It also says who it is:
``fingerprint`` keys the embedding cache and must change whenever its outputs could (weights,
revision, source code, max length), ``identity()`` is what a result file records (a
:class:`ModelIdentity`), and ``similarity`` says whether scores are cosine (vectors get
normalised) or a plain dot product.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from benchmark.errors import XbenchError
from .identity import ModelIdentity

SIMILARITIES = ("cosine", "dot")


@dataclass(frozen=True)
class EncoderOptions:
    """The knobs every kind of encoder understands; ``None`` means "the model's own default"."""

    query_prompt: str = ""
    passage_prompt: str = ""
    batch_size: int = 64
    max_length: int | None = None
    normalize: bool | None = None
    device: str | None = None
    pooling: str | None = None  # plain transformers checkpoints: "mean" (default) or "cls"
    api_base: str | None = None  # embedding APIs: the server's base URL

    def prompt(self, role: str) -> str:
        return self.query_prompt if role == "query" else self.passage_prompt


class Encoder(Protocol):
    """Texts of one role in, one vector per text out (any array-like of shape (n, d))."""

    name: str
    similarity: str

    @property
    def fingerprint(self) -> str: ...

    def identity(self) -> ModelIdentity: ...

    def encode(self, texts: list[str], role: str) -> Any: ...


class RemoteEncoder(ABC):
    """An encoder behind a network API, declared by subclassing this: every call costs time (and
    often money) and may fail halfway through a run, so its embeddings are cached in flushes of
    ``flush_size`` texts (a failure loses at most one), and it counts what it used; a result
    records the counts in ``encoding``."""

    flush_size: int = 256

    @abstractmethod
    def usage(self) -> dict[str, int]:
        """Counters since the encoder was made (e.g. api_requests, api_retries, api_tokens)."""


def check_embeddings(name: str, raw: Any, n_texts: int, dim: int | None) -> np.ndarray:
    """Turn an encoder's output into a float32 (n, d) array or fail naming the model and the fault."""
    try:
        # complex output is refused before any cast, which would silently drop the imaginary part
        if raw.is_complex() if hasattr(raw, "is_complex") else np.iscomplexobj(raw):
            raise XbenchError(f"model {name}: returned complex numbers; embeddings must be real")
        if hasattr(raw, "detach"):  # a torch tensor, possibly on a GPU, possibly bfloat16
            raw = raw.detach().double().cpu().numpy()
        wide = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise XbenchError(f"model {name}: output is not a numeric array ({exc})") from None
    with np.errstate(over="ignore", under="ignore"):
        array = wide.astype(np.float32)
    if array.ndim != 2:
        raise XbenchError(f"model {name}: returned an array of shape {array.shape}, expected ({n_texts}, dim)")
    if array.shape[0] != n_texts:
        raise XbenchError(f"model {name}: returned {array.shape[0]} vectors for {n_texts} texts")
    if array.shape[1] == 0:
        raise XbenchError(f"model {name}: returned vectors of dimension 0")
    if dim is not None and array.shape[1] != dim:
        raise XbenchError(f"model {name}: returned vectors of dimension {array.shape[1]}, earlier ones had {dim}")
    _check_float32_range(name, wide, array)
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        kind = "NaN" if np.isnan(array[bad]).any() else "inf"
        raise XbenchError(f"model {name}: returned {kind} in the vector of text #{bad} of a batch")
    zero = ~array.any(axis=1)
    if zero.any():
        raise XbenchError(f"model {name}: returned an all-zero vector for text #{int(np.flatnonzero(zero)[0])} of a batch")
    return np.ascontiguousarray(array)


def _check_float32_range(name: str, wide: np.ndarray, array: np.ndarray) -> None:
    """Refuse values that the cast to float32 turned into inf or 0: a float64 1e300 must not
    silently become inf, nor a 1e-300 become 0 (NaN and inf given as such are reported after)."""
    for fault, lost in (("overflows", np.isinf(array) & np.isfinite(wide)), ("underflows", (array == 0) & (wide != 0))):
        if lost.any():
            row, col = (int(x) for x in np.argwhere(lost)[0])
            raise XbenchError(f"model {name}: returned {wide[row, col]:g} in the vector of text #{row} of a batch, which {fault} float32")
