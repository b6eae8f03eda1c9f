"""The embedding cache (benchmark/engine/cache.py) driven directly: content keys, round trips,
namespaces, corrupt shards set aside and counted, an unwritable folder."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from benchmark.engine.cache import EmbeddingCache, text_keys
from benchmark.errors import XbenchError


def shards(root, namespace=None):
    return sorted((root / namespace if namespace else root).rglob("*.npz"))


def test_text_keys_are_sha256_of_utf8():
    keys = text_keys(["abc", "", "\ud800"])
    assert keys.shape == (3, 32) and keys.dtype == np.uint8
    assert keys[0].tobytes().hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert keys[1].tobytes().hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert keys[2].tobytes() == hashlib.sha256(b"\xed\xa0\x80").digest()  # a lone surrogate keeps a key


def test_store_then_lookup_round_trip(tmp_path):
    cache = EmbeddingCache(tmp_path)
    vectors = np.array([[1.5, -2.0, 3e-30], [4.0, 5.0, 6e25]], dtype=np.float32)
    path = cache.store("ns", text_keys(["a", "b"]), vectors)
    assert path.parent == tmp_path / "ns" and path.suffix == ".npz"
    assert not list(tmp_path.rglob("*.tmp"))
    # a fresh cache object reads it back; order of the asked keys and unknown keys as asked
    fresh = EmbeddingCache(tmp_path)
    found, out = fresh.lookup("ns", text_keys(["b", "zzz", "a"]))
    assert found.tolist() == [True, False, True]
    assert out.dtype == np.float32
    assert out[0].tobytes() == vectors[1].tobytes() and out[2].tobytes() == vectors[0].tobytes()
    assert out[1].tolist() == [0.0, 0.0, 0.0]
    assert fresh.stats.hits == 2 and fresh.stats.corrupt_shards == 0


def test_lookup_of_an_empty_namespace(tmp_path):
    cache = EmbeddingCache(tmp_path)
    found, out = cache.lookup("nothing-here", text_keys(["a", "b"]))
    assert found.tolist() == [False, False] and out is None and cache.stats.hits == 0


def test_namespaces_separate_fingerprint_role_and_prompt(tmp_path):
    base = EmbeddingCache.namespace("fp", "query", "")
    assert base == EmbeddingCache.namespace("fp", "query", "") and len(base) == 32
    others = [EmbeddingCache.namespace("fp2", "query", ""), EmbeddingCache.namespace("fp", "passage", ""),
              EmbeddingCache.namespace("fp", "query", "query: ")]
    assert len({base, *others}) == 4
    cache = EmbeddingCache(tmp_path)
    cache.store(base, text_keys(["a"]), np.ones((1, 2), dtype=np.float32))
    for namespace in others:
        assert cache.lookup(namespace, text_keys(["a"]))[1] is None


def corrupt_bytes(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path):
    path.write_bytes(path.read_bytes()[:40])


def stale_checksum(path):
    """A well-formed npz whose vectors no longer match their checksum."""
    with np.load(path) as npz:
        keys, vectors, checksum = npz["keys"], npz["vectors"] + 1, npz["checksum"]
    with open(path, "wb") as fh:
        np.savez(fh, keys=keys, vectors=vectors, checksum=checksum)


@pytest.mark.parametrize("damage", [corrupt_bytes, truncate, stale_checksum])
def test_a_corrupt_shard_is_set_aside_and_counted(tmp_path, damage):
    cache = EmbeddingCache(tmp_path)
    good = cache.store("ns", text_keys(["a"]), np.full((1, 3), 2.0, dtype=np.float32))
    bad = cache.store("ns", text_keys(["b"]), np.full((1, 3), 3.0, dtype=np.float32))
    damage(bad)
    found, out = cache.lookup("ns", text_keys(["a", "b"]))
    assert found.tolist() == [True, False] and out[0].tolist() == [2.0, 2.0, 2.0]
    assert cache.stats.corrupt_shards == 1
    assert shards(tmp_path) == [good] and bad.with_suffix(".corrupt").is_file()
    # set aside once: the next lookup neither reads nor counts it again
    cache.lookup("ns", text_keys(["a", "b"]))
    assert cache.stats.corrupt_shards == 1


def test_an_unwritable_cache_is_one_clear_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    cache = EmbeddingCache(tmp_path / "file")
    with pytest.raises(XbenchError, match=r"embedding cache .*file: cannot write"):
        cache.store("ns", text_keys(["a"]), np.ones((1, 2), dtype=np.float32))
