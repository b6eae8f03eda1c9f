"""A streamed corpus embedded chunk by chunk (benchmark/engine/chunked.py): the ChunkedMatrix reads
the rows the concatenated matrix holds, chunks are reused by a second run, a killed encode keeps
the chunks it finished, and a hook may return the chunks in any order."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from benchmark.encoders import EncoderOptions
from benchmark.engine import textsource
from benchmark.engine.cache import EmbeddingCache
from benchmark.engine.chunked import ChunkedMatrix, embed_corpus
from benchmark.engine.embed import EmbedStats, embed_texts, encode_chunk
from benchmark.engine.formats.beir import scan_corpus
from benchmark.engine.textsource import TextSource
from benchmark.errors import XbenchError
from tests.test_cache import corrupt_bytes, stale_checksum, truncate
from tests.test_embed import Recorder, vector_of

TEXTS = [f"passage {i}" + "!" * (i % 3) for i in range(10)]


@pytest.fixture
def source(tmp_path, monkeypatch) -> TextSource:
    """TEXTS as a corpus.jsonl cut every 3 lines: chunks of 3, 3, 3, 1."""
    monkeypatch.setattr(textsource, "CHUNK_ROWS", 3)
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps({"_id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS)))
    return scan_corpus(path, "sentence", set())[0]


def embed(encoder, source, cache, **kw):
    stats = EmbedStats()
    return embed_corpus(encoder, source, "passage", EncoderOptions(), cache, stats=stats, **kw), stats


def expected(texts=TEXTS) -> np.ndarray:
    return np.stack([vector_of(t) for t in texts])


def chunk_files(root):
    return sorted(root.rglob("chunk-*.npz"))


def test_rows_read_from_the_chunks_are_those_of_the_whole_matrix(source, tmp_path):
    matrix, stats = embed(Recorder(), source, EmbeddingCache(tmp_path / "cache"))
    whole = expected()
    assert isinstance(matrix, ChunkedMatrix) and matrix.shape == (10, 4) and len(matrix) == 10
    assert [f.rows for f in matrix.files] == [3, 3, 3, 1] and len(chunk_files(tmp_path / "cache")) == 4
    for key in (slice(0, 10), slice(2, 7), slice(3, 6), slice(9, 10), slice(4, 4), slice(None, None, 3), slice(-4, None)):
        got = matrix[key]
        assert got.dtype == np.float32 and got.flags.c_contiguous and got.tobytes() == whole[key].tobytes(), key
    for rows in ([7, 0, 3, 3, 9], [-1, 2], []):
        index = np.asarray(rows, dtype=np.int64)
        assert matrix[index].tobytes() == whole[index].tobytes(), rows
    with pytest.raises(IndexError):
        matrix[np.asarray([10])]
    again = pickle.loads(pickle.dumps(matrix))
    assert again[1:8].tobytes() == whole[1:8].tobytes()
    assert (stats.unique, stats.encoded) == (10, 10)


def test_a_second_run_encodes_nothing(source, tmp_path):
    first, _ = embed(Recorder(), source, EmbeddingCache(tmp_path / "cache"))
    encoder, cache = Recorder(), EmbeddingCache(tmp_path / "cache")
    second, stats = embed(encoder, source, cache)
    assert encoder.calls == [] and (stats.unique, stats.encoded, cache.stats.hits) == (10, 0, 10)
    assert second[:].tobytes() == first[:].tobytes()
    # a chunk's shard is an ordinary shard: the in-memory path finds every text in it
    encoder = Recorder()
    held = embed_texts(encoder, TEXTS, "passage", EncoderOptions(), EmbeddingCache(tmp_path / "cache"))
    assert encoder.calls == [] and held.tobytes() == expected().tobytes()


def test_a_killed_encode_keeps_the_chunks_it_finished(source, tmp_path):
    broken = Recorder(fail_after=2)  # one call per chunk: two chunks go through, the third raises
    with pytest.raises(RuntimeError, match="interrupted"):
        embed(broken, source, EmbeddingCache(tmp_path / "cache"))
    assert len(chunk_files(tmp_path / "cache")) == 2 and not list((tmp_path / "cache").rglob("*.tmp"))
    resumed = Recorder()
    matrix, stats = embed(resumed, source, EmbeddingCache(tmp_path / "cache"))
    assert sorted(resumed.encoded) == sorted(TEXTS[6:]) and stats.encoded == 4
    assert matrix[:].tobytes() == expected().tobytes()


@pytest.mark.parametrize("damage", [corrupt_bytes, truncate, stale_checksum])
def test_a_damaged_chunk_is_set_aside_and_encoded_again(source, tmp_path, damage):
    embed(Recorder(), source, EmbeddingCache(tmp_path / "cache"))
    damage(chunk_files(tmp_path / "cache")[0])
    encoder, cache = Recorder(), EmbeddingCache(tmp_path / "cache")
    matrix, stats = embed(encoder, source, cache)
    assert cache.stats.corrupt_shards == 1 and len(encoder.encoded) == 3 and stats.encoded == 3
    assert len(list((tmp_path / "cache").rglob("*.corrupt"))) == 1 and len(chunk_files(tmp_path / "cache")) == 4
    assert matrix[:].tobytes() == expected().tobytes()


def test_a_repeated_text_is_encoded_once_per_chunk_and_stored_on_each_row(tmp_path, monkeypatch):
    monkeypatch.setattr(textsource, "CHUNK_ROWS", 3)
    texts = ["a", "bb", "a", "a", "c"]
    encoder = Recorder()
    matrix, stats = embed(encoder, TextSource.from_texts(texts), EmbeddingCache(tmp_path))
    assert encoder.calls == [["bb", "a"], ["a", "c"]]  # longest first within a chunk
    assert (stats.unique, stats.encoded) == (4, 4)
    assert matrix[:].tobytes() == expected(texts).tobytes()


def test_the_hook_may_return_chunks_in_any_order(source, tmp_path):
    """What the Ray engine does: the driver stores each chunk as it comes back."""
    encoder = Recorder()

    def backwards(locators):
        for i in reversed(range(len(locators))):
            yield i, encode_chunk(encoder, locators[i].texts(), "passage", EncoderOptions())

    matrix, stats = embed(Recorder(), source, EmbeddingCache(tmp_path / "cache"), encode_batches=backwards)
    assert encoder.calls[0] == [TEXTS[9]] and stats.encoded == 10
    assert matrix[:].tobytes() == expected().tobytes()


def test_a_hook_that_loses_a_chunk_is_refused(source, tmp_path):
    def lossy(locators):
        yield 0, encode_chunk(Recorder(), locators[0].texts(), "passage", EncoderOptions())

    with pytest.raises(XbenchError, match=r"^model recorder: encoding returned no vectors for 3 chunk\(s\) of passage texts$"):
        embed(Recorder(), source, EmbeddingCache(tmp_path / "cache"), encode_batches=lossy)
