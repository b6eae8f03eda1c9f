"""Embedding through the cache (benchmark/engine/embed.py) with a recording encoder: each unique
text encoded once, partial hits, prompts, flushes, call sizes, resuming an interrupted encode and
re-encoding a corrupt shard, the vectors always the same bits."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from benchmark.encoders import EncoderOptions
from benchmark.engine.cache import EmbeddingCache, text_keys
from benchmark.engine.embed import FLUSH_SIZE, EmbedStats, embed_texts, flush_size_default
from benchmark.errors import XbenchError
from tests.test_cache import corrupt_bytes, shards


def vector_of(text: str, dim: int = 4) -> np.ndarray:
    """A fixed, non-zero vector per text (from its hash), as a deterministic model would give."""
    digest = hashlib.sha256(text.encode()).digest()
    return np.frombuffer(digest[: 2 * dim], dtype=np.uint16).astype(np.float32) / 7 + 1


class Recorder:
    """An encoder that records every call; ``fail_after``: raise on the call after that many."""

    similarity = "dot"

    def __init__(self, name: str = "recorder", fingerprint: str = "fp-1", fail_after: int | None = None) -> None:
        self.name, self._fingerprint, self.fail_after = name, fingerprint, fail_after
        self.calls: list[list[str]] = []

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def identity(self) -> dict:
        return {"name": self.name}

    def encode(self, texts: list[str], role: str) -> np.ndarray:
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise RuntimeError("interrupted")
        self.calls.append(list(texts))
        return np.stack([vector_of(t) for t in texts])

    @property
    def encoded(self) -> list[str]:
        return [t for call in self.calls for t in call]


def embed(encoder, texts, cache, role="query", options=EncoderOptions(), **kw):
    stats = EmbedStats()
    return embed_texts(encoder, texts, role, options, cache, stats=stats, **kw), stats


def test_each_unique_text_is_encoded_once_then_read_back_bit_for_bit(tmp_path):
    texts = ["b", "a", "b", "ccc"]
    first_encoder = Recorder()
    first, stats = embed(first_encoder, texts, EmbeddingCache(tmp_path))
    assert first_encoder.calls == [["ccc", "b", "a"]]  # unique texts, longest first
    assert (stats.unique, stats.encoded) == (3, 3)
    assert first.dtype == np.float32 and first.shape == (4, 4)
    assert first.tobytes() == np.stack([vector_of(t) for t in texts]).tobytes()
    # a second run reads everything from the cache: no call, the same bits
    again, cache = Recorder(), EmbeddingCache(tmp_path)
    second, stats = embed(again, texts, cache)
    assert again.calls == [] and (stats.unique, stats.encoded) == (3, 0) and cache.stats.hits == 3
    assert second.tobytes() == first.tobytes()


def test_partial_hits_encode_only_the_missing_texts(tmp_path):
    embed(Recorder(), ["a", "b"], EmbeddingCache(tmp_path))
    encoder, cache = Recorder(), EmbeddingCache(tmp_path)
    out, stats = embed(encoder, ["b", "c", "a", "dddd"], cache)
    assert encoder.calls == [["dddd", "c"]]
    assert (stats.unique, stats.encoded, cache.stats.hits) == (4, 2, 2)
    assert out.tobytes() == np.stack([vector_of(t) for t in ["b", "c", "a", "dddd"]]).tobytes()


def test_prompt_role_and_fingerprint_each_get_their_own_vectors(tmp_path):
    cache = EmbeddingCache(tmp_path)
    prompted = EncoderOptions(query_prompt="query: ", passage_prompt="passage: ")
    encoder = Recorder()
    embed(encoder, ["a"], cache)
    embed(encoder, ["a"], cache, options=prompted)
    embed(encoder, ["a"], cache, role="passage", options=prompted)
    embed(Recorder(fingerprint="fp-2"), ["a"], cache)
    embed(encoder, ["a"], cache, options=prompted)  # already there
    assert encoder.encoded == ["a", "query: a", "passage: a"]
    assert len({p.parent for p in shards(tmp_path)}) == 4
    # the prompted query vector is the model's vector of the prompted text
    out, _ = embed(Recorder(), ["a"], cache, options=prompted)
    assert out.tobytes() == vector_of("query: a").tobytes()


def test_flush_size_from_the_environment(monkeypatch):
    for value, expected in (("16", 16), ("1", 1), ("0", FLUSH_SIZE), ("-3", FLUSH_SIZE), ("many", FLUSH_SIZE), ("", FLUSH_SIZE)):
        monkeypatch.setenv("XBENCH_FLUSH_SIZE", value)
        assert flush_size_default() == expected, value
    monkeypatch.delenv("XBENCH_FLUSH_SIZE")
    assert flush_size_default() == FLUSH_SIZE == 2048


def test_every_flush_is_one_shard(tmp_path, monkeypatch):
    monkeypatch.setenv("XBENCH_FLUSH_SIZE", "3")
    texts = [f"text {i:02d}" for i in range(8)]
    encoder = Recorder()
    embed(encoder, texts, EmbeddingCache(tmp_path))
    assert [len(call) for call in encoder.calls] == [3, 3, 2]
    sizes = []
    for path in shards(tmp_path):
        with np.load(path) as npz:
            sizes.append(len(npz["keys"]))
    assert sorted(sizes) == [2, 3, 3]
    # an explicit flush size wins over the environment
    other = tmp_path / "other"
    embed(Recorder(), texts, EmbeddingCache(other), flush_size=5)
    assert len(shards(other)) == 2


def test_encoder_calls_are_cut_at_the_call_size(tmp_path):
    """Within one flush, calls of 256 texts (or the batch size, when larger)."""
    texts = [f"t{i:04d}" for i in range(600)]
    encoder = Recorder()
    embed(encoder, texts, EmbeddingCache(tmp_path / "a"))
    assert [len(call) for call in encoder.calls] == [256, 256, 88]
    encoder = Recorder()
    embed(encoder, texts, EmbeddingCache(tmp_path / "b"), options=EncoderOptions(batch_size=500))
    assert [len(call) for call in encoder.calls] == [500, 100]


def test_an_interrupted_encode_resumes_with_what_is_missing(tmp_path):
    texts = [f"sentence number {i}" for i in range(10)]
    clean, _ = embed(Recorder(), texts, EmbeddingCache(tmp_path / "clean"))
    broken = Recorder(fail_after=2)  # two flushes of 3 texts go through, the third call raises
    with pytest.raises(RuntimeError, match="interrupted"):
        embed(broken, texts, EmbeddingCache(tmp_path / "cache"), flush_size=3)
    assert len(shards(tmp_path / "cache")) == 2 and not list((tmp_path / "cache").rglob("*.tmp"))
    resumed, cache = Recorder(), EmbeddingCache(tmp_path / "cache")
    out, stats = embed(resumed, texts, cache, flush_size=3)
    assert sorted(resumed.encoded) == sorted(set(texts) - set(broken.encoded)) and len(resumed.encoded) == 4
    assert (stats.encoded, cache.stats.hits) == (4, 6)
    assert out.tobytes() == clean.tobytes()


def test_a_corrupt_shard_is_encoded_again(tmp_path):
    texts = ["one", "two", "three", "four"]
    first, _ = embed(Recorder(), texts, EmbeddingCache(tmp_path), flush_size=2)
    corrupt_bytes(shards(tmp_path)[0])
    encoder, cache = Recorder(), EmbeddingCache(tmp_path)
    out, stats = embed(encoder, texts, cache, flush_size=2)
    assert cache.stats.corrupt_shards == 1 and stats.encoded == 2 and len(encoder.encoded) == 2
    assert out.tobytes() == first.tobytes()


def test_cached_vectors_of_another_dimension_are_refused(tmp_path):
    """A model whose vectors change size under the same fingerprint is caught, not mixed in."""
    cache = EmbeddingCache(tmp_path)
    namespace = cache.namespace("fp-1", "query", "")
    cache.store(namespace, text_keys(["a"]), np.ones((1, 7), dtype=np.float32))
    with pytest.raises(XbenchError, match="model recorder: returned vectors of dimension 4, earlier ones had 7"):
        embed(Recorder(), ["a", "b"], cache)


def test_nothing_to_encode(tmp_path):
    with pytest.raises(XbenchError, match="model recorder: nothing to encode"):
        embed(Recorder(), [], EmbeddingCache(tmp_path))
