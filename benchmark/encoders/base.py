"""What an encoder is to xbench, and the checks every encoder's output passes.

An encoder turns texts of one role ("query" or "passage") into vectors. It also says who it is:
``fingerprint`` keys the embedding cache and must change whenever its outputs could (weights,
revision, source code, max length), ``identity()`` is what a result file records, and
``similarity`` says whether scores are cosine (vectors get normalised) or a plain dot product.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import XbenchError

ROLES = ("query", "passage")
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
    extra: dict[str, Any] = field(default_factory=dict)

    def prompt(self, role: str) -> str:
        return self.query_prompt if role == "query" else self.passage_prompt


@runtime_checkable
class Encoder(Protocol):
    name: str
    similarity: str

    @property
    def fingerprint(self) -> str: ...

    def identity(self) -> dict[str, Any]: ...

    def encode(self, texts: list[str], role: str) -> Any: ...


def check_embeddings(name: str, raw: Any, n_texts: int, dim: int | None) -> np.ndarray:
    """Turn an encoder's output into a float32 (n, d) array or fail naming the model and the fault."""
    try:
        if hasattr(raw, "detach"):  # a torch tensor, possibly on a GPU
            raw = raw.detach().float().cpu().numpy()
        array = np.asarray(raw, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise XbenchError(f"model {name}: output is not a numeric array ({exc})") from None
    if array.ndim != 2:
        raise XbenchError(f"model {name}: returned an array of shape {array.shape}, expected ({n_texts}, dim)")
    if array.shape[0] != n_texts:
        raise XbenchError(f"model {name}: returned {array.shape[0]} vectors for {n_texts} texts")
    if array.shape[1] == 0:
        raise XbenchError(f"model {name}: returned vectors of dimension 0")
    if dim is not None and array.shape[1] != dim:
        raise XbenchError(f"model {name}: returned vectors of dimension {array.shape[1]}, earlier ones had {dim}")
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        kind = "NaN" if np.isnan(array[bad]).any() else "inf"
        raise XbenchError(f"model {name}: returned {kind} in the vector of text #{bad} of a batch")
    zero = ~array.any(axis=1)
    if zero.any():
        raise XbenchError(f"model {name}: returned an all-zero vector for text #{int(np.flatnonzero(zero)[0])} of a batch")
    return np.ascontiguousarray(array)
