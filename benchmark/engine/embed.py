"""Embedding a task's texts: each unique text once per (model, role, prompt), cache first.

Misses are encoded longest-first (as sentence-transformers would order them itself), in calls of
a few hundred texts so progress shows, and written to the cache in flushes of ``flush_size``
texts: every finished flush is checked and stored before the next starts, so Ctrl-C or a crash
loses at most one flush of work, and a re-run encodes only what is missing.

One function encodes a batch, :func:`encode_chunk`, wherever it runs (here, or in a Ray actor),
so every engine gives the same vectors. Batches are encoded through a hook,
``encode_batches(locators) -> iterator of (position, vectors)`` (any order): :func:`local_batches`
by default, one after another in this process; the Ray engine supplies one that fans them out.
Either way the caller (the driver) stores each batch in the cache as it arrives: workers never
touch the cache. A streamed corpus is embedded chunk by chunk by :mod:`.chunked`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from .cache import EmbeddingCache, text_keys
from benchmark.encoders import Encoder, EncoderOptions, check_embeddings
from benchmark.errors import XbenchError
from benchmark.progress import bar
from .textsource import InlineLocator, Locator

FLUSH_SIZE = 2048  # texts per cache write; $XBENCH_FLUSH_SIZE overrides
CALL_SIZE = 256  # texts per encoder call (at least the batch size): the progress bar's step


def flush_size_default() -> int:
    value = os.environ.get("XBENCH_FLUSH_SIZE", "")
    return int(value) if value.isdigit() and int(value) > 0 else FLUSH_SIZE


@dataclass
class EmbedStats:
    unique: int = 0
    encoded: int = 0


EncodeBatches = Callable[[list[Locator]], Iterator[tuple[int, np.ndarray]]]
Progress = Callable[[int], object]


def encode_chunk(encoder: Encoder, texts: list[str], role: str, options: EncoderOptions,
                 progress: Progress | None = None) -> np.ndarray:
    """(len(texts), d) float32 vectors of one batch, each distinct text encoded once: longest
    first (stable), with the role's prompt, in calls of ``max(CALL_SIZE, batch_size)`` texts,
    each call's output checked (:func:`~benchmark.encoders.check_embeddings`). ``progress`` is
    told how many texts each call encoded."""
    position: dict[str, int] = {}
    inverse = np.fromiter((position.setdefault(t, len(position)) for t in texts), dtype=np.int64, count=len(texts))
    unique = list(position)
    if not unique:
        raise XbenchError(f"model {encoder.name}: nothing to encode")
    order = np.argsort([-len(text) for text in unique], kind="stable")
    prompt = options.prompt(role)
    call_size = max(CALL_SIZE, options.batch_size)
    out: np.ndarray | None = None
    for first in range(0, len(order), call_size):
        rows = order[first : first + call_size]
        raw = encoder.encode([prompt + unique[i] for i in rows], role)
        batch = check_embeddings(encoder.name, raw, len(rows), None if out is None else out.shape[1])
        if out is None:
            out = np.empty((len(unique), batch.shape[1]), dtype=np.float32)
        out[rows] = batch
        if progress is not None:
            progress(len(rows))
    assert out is not None
    return out if len(unique) == len(texts) else np.ascontiguousarray(out[inverse])


def local_batches(encoder: Encoder, role: str, options: EncoderOptions, progress: Progress | None = None) -> EncodeBatches:
    """The default ``encode_batches``: each batch in turn, here, yielded as soon as it is done
    (so the caller stores it before the next one starts)."""
    def encode(locators: list[Locator]) -> Iterator[tuple[int, np.ndarray]]:
        for i, locator in enumerate(locators):
            yield i, encode_chunk(encoder, locator.texts(), role, options, progress)
    return encode


def check_dimension(encoder: Encoder, vectors: np.ndarray, rows: int, dim: int | None) -> None:
    """A batch's vectors from a hook: one per text, of the dimension of those before."""
    if vectors.ndim != 2 or len(vectors) != rows:
        raise XbenchError(f"model {encoder.name}: returned {vectors.shape[0]} vectors for {rows} texts")
    if dim is not None and vectors.shape[1] != dim:
        raise XbenchError(f"model {encoder.name}: returned vectors of dimension {vectors.shape[1]}, earlier ones had {dim}")


def embed_texts(
    encoder: Encoder,
    texts: list[str],
    role: str,
    options: EncoderOptions,
    cache: EmbeddingCache,
    quiet: bool = True,
    flush_size: int | None = None,
    stats: EmbedStats | None = None,
    encode_batches: EncodeBatches | None = None,
) -> np.ndarray:
    """(len(texts), d) float32 vectors for ``texts`` in order, duplicates sharing one encoding.

    The vectors are the model's own, never normalised here: cosine is computed exactly from them by
    the scorer (``search.cosine_scores``), which is also what keeps ±1e-30 or ×1e25 vectors from
    underflowing or overflowing. The missing texts go to ``encode_batches`` (default: here) as
    flushes of ``flush_size``, longest first."""
    flush_size = flush_size or flush_size_default()
    stats = stats if stats is not None else EmbedStats()
    position: dict[str, int] = {}
    inverse = np.fromiter((position.setdefault(t, len(position)) for t in texts), dtype=np.int64, count=len(texts))
    unique = list(position)
    namespace = cache.namespace(encoder.fingerprint, role, options.prompt(role))
    keys = text_keys(unique)
    found, vectors = cache.lookup(namespace, keys)
    missing = np.flatnonzero(~found)
    if len(missing):
        missing = missing[np.argsort([-len(unique[i]) for i in missing], kind="stable")]
        flushes = [missing[start : start + flush_size] for start in range(0, len(missing), flush_size)]
        locators: list[Locator] = [InlineLocator(tuple(unique[i] for i in rows)) for rows in flushes]
        with bar(len(missing), f"encoding {role} texts", quiet, unit="text") as progress:
            hook = encode_batches or local_batches(encoder, role, options, progress.update)
            for i, batch in hook(locators):
                rows = flushes[i]
                check_dimension(encoder, batch, len(rows), None if vectors is None else vectors.shape[1])
                cache.store(namespace, keys[rows], batch)
                if vectors is None:
                    vectors = np.zeros((len(unique), batch.shape[1]), dtype=np.float32)
                vectors[rows] = batch
                if encode_batches is not None:
                    progress.update(len(rows))
    if vectors is None:
        raise XbenchError(f"model {encoder.name}: nothing to encode")
    stats.unique += len(unique)
    stats.encoded += len(missing)
    return vectors[inverse]
