"""Encoders that tests name as ``--model tests.encoders_for_tests:NAME`` (the module:attr form)."""

from __future__ import annotations

import os
import re
import time
import zlib

import numpy as np

from benchmark.encoders.ngram_hash import NgramHashEncoder

# Integer n-gram counts with dot-product similarity: every score is an exact small integer, so two
# independent implementations agree bit for bit and ties are plentiful (pessimistic ties matter).
ngram_counts = NgramHashEncoder(dim=256, n=3, similarity="dot")


def constant(texts):
    """The degenerate encoder: every text the same vector."""
    return np.ones((len(texts), 8), dtype=np.float32)


def wrong_count(texts):
    return np.ones((len(texts) + 1, 8), dtype=np.float32)


def wrong_shape(texts):
    return np.ones((len(texts),), dtype=np.float32)


def with_nan(texts):
    out = np.ones((len(texts), 8), dtype=np.float32)
    out[-1, 0] = np.nan
    return out


def with_inf(texts):
    out = np.ones((len(texts), 8), dtype=np.float32)
    out[0, 3] = np.inf
    return out


def all_zero(texts):
    return np.zeros((len(texts), 8), dtype=np.float32)


def raises(texts):
    raise RuntimeError("boom")


class RoleAware:
    """BEIR/MTEB convention: separate query and corpus methods."""

    similarity = "dot"

    def encode_queries(self, texts):
        return ngram_counts.encode(texts) + 1.0

    def encode_corpus(self, texts):
        return ngram_counts.encode(texts) + 2.0


class WithEncode:
    def encode(self, texts):
        return ngram_counts.encode(texts)


def slow(texts):
    """Counts its calls in $XBENCH_TEST_CALLS and sleeps, so a test can kill a run mid-encoding."""
    log = os.environ.get("XBENCH_TEST_CALLS")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{len(texts)}\n")
    time.sleep(float(os.environ.get("XBENCH_TEST_SLEEP", "0.5")))
    return ngram_counts.encode(texts)


class Noisy:
    """ngram_counts with seeded Gaussian noise per text (deterministic): a degraded checkpoint.
    ``scale`` is relative to each vector's norm."""

    similarity = "cosine"
    scale = 1.5

    def encode(self, texts):
        vectors = ngram_counts.encode(texts)
        out = np.empty_like(vectors)
        for i, text in enumerate(texts):
            rng = np.random.default_rng(zlib.crc32(text.encode("utf-8")))
            noise = rng.standard_normal(vectors.shape[1]).astype(np.float32)
            out[i] = vectors[i] + self.scale * np.linalg.norm(vectors[i]) / np.sqrt(vectors.shape[1]) * noise
        return out


class SlightlyNoisy(Noisy):
    scale = 0.02


class Cosine:
    """ngram_counts under cosine similarity: the baseline the noisy variants degrade."""

    similarity = "cosine"

    def encode(self, texts):
        return ngram_counts.encode(texts)


class WordCounts:
    """Counts of lower-cased words hashed (CRC-32) into 12 buckets, plus a constant 1 (no text is
    the zero vector xbench refuses), scored by dot product: integer scores of a few distinct
    values, so ties are everywhere (at the 10th place of a ranking, between two languages'
    answers; a text without spaces is one word). For the bias reference (tests/test_bias_reference.py)."""

    similarity = "dot"
    dim = 12

    def encode(self, texts):
        out = np.zeros((len(texts), self.dim + 1), dtype=np.float32)
        out[:, self.dim] = 1
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, zlib.crc32(word.encode("utf-8")) % self.dim] += 1
        return out


word_counts = WordCounts()


def dies_once(texts):
    """ngram_counts, except that the first call in a process other than the one named by
    $XBENCH_TEST_DRIVER_PID kills that process (SIGKILL, as a lost machine would), once: the
    marker file $XBENCH_TEST_DIE_MARKER records that it happened. For the Ray retry test."""
    marker = os.environ.get("XBENCH_TEST_DIE_MARKER")
    if marker and str(os.getpid()) != os.environ.get("XBENCH_TEST_DRIVER_PID") and not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), 9)
    return ngram_counts.encode(texts)


class LoadsOnlyInDriver:
    """ngram_counts in the process named by $XBENCH_TEST_DRIVER_PID; elsewhere (a Ray actor) it
    fails to load, as a model missing on a cluster node would."""

    similarity = "dot"

    def __init__(self):
        if str(os.getpid()) != os.environ.get("XBENCH_TEST_DRIVER_PID", str(os.getpid())):
            raise RuntimeError("weights not found on this node")

    def encode(self, texts):
        return ngram_counts.encode(texts)
