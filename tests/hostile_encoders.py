"""Encoders that try to score well without meaning anything, or to break the arithmetic: vectors
at the edges of float32 (±1e-30, ×1e25, ±1e20 under a dot product) and outputs that a cast to
float32 would silently change (float64 1e300 / 1e-300, complex). Named in tests as
``--model tests.hostile_encoders:NAME``."""

from __future__ import annotations

import zlib

import numpy as np

from tests.encoders_for_tests import ngram_counts

DIM = 16


def _signs(texts: list[str]) -> np.ndarray:
    """±1 per coordinate, seeded by each text (deterministic, and meaningless as a retriever)."""
    out = np.empty((len(texts), DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        out[i] = np.where(np.random.default_rng(zlib.crc32(text.encode("utf-8"))).random(DIM) < 0.5, -1.0, 1.0)
    return out


def random_signs(texts):
    return _signs(texts)


def tiny_signs(texts):
    """The critical case: finite, non-zero, ±1e-30 (float32 squares underflow to 0)."""
    return _signs(texts) * np.float32(1e-30)


def huge_signs(texts):
    """×1e25: float32 squares overflow to inf, and the norm with them."""
    return _signs(texts) * np.float32(1e25)


class OverflowingDot:
    """±1e20 under a plain dot product: float32 products (1e40) overflow."""

    similarity = "dot"

    def encode(self, texts):
        return _signs(texts) * np.float32(1e20)


class _ScaledCounts:
    """ngram counts under cosine, scaled: cosine is scale-invariant, so the scores must be too."""

    similarity = "cosine"
    scale = 1.0

    def encode(self, texts):
        return (ngram_counts.encode(texts).astype(np.float64) * self.scale).astype(np.float32)


class Counts(_ScaledCounts):
    pass


class TinyCountsExact(_ScaledCounts):
    scale = 2.0**-100  # a power of two: the float32 vectors are exactly proportional


class TinyCounts(_ScaledCounts):
    scale = 1e-30


class HugeCountsExact(_ScaledCounts):
    scale = 2.0**83


class HugeCounts(_ScaledCounts):
    scale = 1e25


def float64_huge(texts):
    out = np.ones((len(texts), 8), dtype=np.float64)
    out[-1, 2] = 1e300
    return out


def float64_tiny(texts):
    out = np.ones((len(texts), 8), dtype=np.float64)
    out[0, 5] = 1e-300
    return out


def complex_output(texts):
    return np.ones((len(texts), 8), dtype=np.complex128) * (1 + 1j)
