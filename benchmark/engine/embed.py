"""Embedding a task's texts: each unique text once per (model, role, prompt), cache first.

Misses are encoded longest-first (as sentence-transformers would order them itself), in calls of
a few hundred texts so progress shows, and written to the cache in flushes of ``flush_size``
texts: every finished flush is checked and stored before the next starts, so Ctrl-C or a crash
loses at most one flush of work, and a re-run encodes only what is missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .cache import EmbeddingCache, text_keys
from benchmark.encoders import Encoder, EncoderOptions, check_embeddings
from benchmark.errors import XbenchError
from benchmark.progress import bar

FLUSH_SIZE = 2048  # texts per cache write; $XBENCH_FLUSH_SIZE overrides
CALL_SIZE = 256  # texts per encoder call (at least the batch size): the progress bar's step


def flush_size_default() -> int:
    value = os.environ.get("XBENCH_FLUSH_SIZE", "")
    return int(value) if value.isdigit() and int(value) > 0 else FLUSH_SIZE


@dataclass
class EmbedStats:
    unique: int = 0
    encoded: int = 0


def embed_texts(
    encoder: Encoder,
    texts: list[str],
    role: str,
    options: EncoderOptions,
    cache: EmbeddingCache,
    quiet: bool = True,
    flush_size: int | None = None,
    stats: EmbedStats | None = None,
) -> np.ndarray:
    """(len(texts), d) float32 vectors for ``texts`` in order, duplicates sharing one encoding.

    The vectors are the model's own, never normalised here: cosine is computed exactly from them by
    the scorer (``search.cosine_scores``), which is also what keeps ±1e-30 or ×1e25 vectors from
    underflowing or overflowing."""
    flush_size = flush_size or flush_size_default()
    stats = stats if stats is not None else EmbedStats()
    position: dict[str, int] = {}
    inverse = np.fromiter((position.setdefault(t, len(position)) for t in texts), dtype=np.int64, count=len(texts))
    unique = list(position)
    prompt = options.prompt(role)
    namespace = cache.namespace(encoder.fingerprint, role, prompt)
    keys = text_keys(unique)
    found, vectors = cache.lookup(namespace, keys)
    missing = np.flatnonzero(~found)
    if len(missing):
        missing = missing[np.argsort([-len(unique[i]) for i in missing], kind="stable")]
        call_size = max(CALL_SIZE, options.batch_size)
        with bar(len(missing), f"encoding {role} texts", quiet, unit="text") as progress:
            for start in range(0, len(missing), flush_size):
                rows = missing[start : start + flush_size]
                parts: list[np.ndarray] = []
                for first in range(0, len(rows), call_size):
                    chunk = rows[first : first + call_size]
                    raw = encoder.encode([prompt + unique[i] for i in chunk], role)
                    dim = parts[0].shape[1] if parts else (vectors.shape[1] if vectors is not None else None)
                    parts.append(check_embeddings(encoder.name, raw, len(chunk), dim))
                    progress.update(len(chunk))
                batch = np.concatenate(parts)
                cache.store(namespace, keys[rows], batch)
                if vectors is None:
                    vectors = np.zeros((len(unique), batch.shape[1]), dtype=np.float32)
                vectors[rows] = batch
    if vectors is None:
        raise XbenchError(f"model {encoder.name}: nothing to encode")
    stats.unique += len(unique)
    stats.encoded += len(missing)
    return vectors[inverse]
