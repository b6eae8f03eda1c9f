"""A streamed corpus embedded chunk by chunk, its vectors left in the cache and read on demand.

Each chunk of a :class:`~.textsource.TextSource` (CHUNK_ROWS texts, never crossing a part) is one
cache shard, ``<namespace>/chunk-<SHA-256 of its text keys, in order>.npz``, holding one key and
one vector per row in corpus order (a text repeated within the chunk is encoded once and its
vector stored on each of its rows, so a row's vector is found by position alone). A chunk whose
file is present with a valid checksum is reused; the others are encoded through the
``encode_batches`` hook and stored by this process (the driver) as each arrives, so a killed run
keeps every finished chunk. The chunks depend only on the corpus, not on the memory budget or
the engine, so any later run finds them.

The result is a :class:`ChunkedMatrix`: the list of chunk files and their row offsets, nothing
more. Rows are read when asked for (the file opened, the rows copied, the file closed), so the
candidate matrix of a large pool is never held whole, nor mapped for longer than one read.
"""

from __future__ import annotations

import hashlib
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from benchmark.encoders import Encoder, EncoderOptions
from benchmark.errors import XbenchError
from benchmark.progress import bar
from .cache import EmbeddingCache, text_keys
from .embed import EmbedStats, EncodeBatches, check_dimension, local_batches
from .textsource import TextSource

ZIP_LOCAL_HEADER = 30  # bytes; the name's and the extra field's lengths are at 26 and 28
VERIFY_BYTES = 1 << 22  # bytes of vectors read at a time while checking a chunk's checksum


@dataclass(frozen=True)
class ChunkFile:
    """One chunk's shard: its path (absolute: a Ray worker's working directory may differ, over
    Ray Client it does), rows, and the byte offset of its float32 vectors' data."""

    path: str
    rows: int
    offset: int


def _vectors_at(path: Path) -> tuple[int, tuple[int, ...]]:
    """Byte offset and shape of the float32 C-order ``vectors`` array inside an uncompressed
    ``.npz`` shard (what :meth:`EmbeddingCache.store` writes), so rows are read straight from
    the file; ValueError if the shard is not laid out that way."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("vectors.npy")
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        name_len, extra_len = struct.unpack("<26xHH", handle.read(ZIP_LOCAL_HEADER))
        handle.seek(info.header_offset + ZIP_LOCAL_HEADER + name_len + extra_len)
        version = np.lib.format.read_magic(handle)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(handle)
        offset = handle.tell()
    if info.compress_type != zipfile.ZIP_STORED or fortran or dtype != np.dtype("<f4") or len(shape) != 2:
        raise ValueError(f"{path}: not an uncompressed float32 matrix")
    return offset, shape


def chunk_file(path: Path, rows: int, dimension: int) -> ChunkFile:
    """A chunk shard just written: where its vectors are."""
    offset, shape = _vectors_at(path)
    if shape != (rows, dimension):
        raise XbenchError(f"embedding cache {path}: holds {shape[0]}x{shape[1]} vectors, not {rows}x{dimension}")
    return ChunkFile(str(path.absolute()), rows, offset)


def cached_chunk(cache: EmbeddingCache, path: Path, keys: np.ndarray) -> tuple[ChunkFile, int] | None:
    """The chunk shard at ``path`` and its dimension, if it holds ``keys`` and its checksum holds.
    The checksum is fed the vectors a few MB at a time from the file, so checking a chunk never
    loads it whole; a shard that fails is set aside (its texts are encoded again)."""
    try:
        offset, shape = _vectors_at(path)
        with np.load(path, allow_pickle=False) as archive:
            stored, checksum = archive["keys"], archive["checksum"]
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(stored).data)
        digest.update(str(shape).encode())
        with open(path, "rb") as handle:
            handle.seek(offset)
            left = shape[0] * shape[1] * 4
            while left > 0 and (block := handle.read(min(left, VERIFY_BYTES))):
                digest.update(block)
                left -= len(block)
        if left == 0 and np.array_equal(checksum, np.frombuffer(digest.digest(), dtype=np.uint8)):
            if np.array_equal(stored, keys) and shape[0] == len(keys):
                return ChunkFile(str(path.absolute()), len(keys), offset), int(shape[1])
            return None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        pass
    cache.set_aside(path)
    return None


class ChunkedMatrix:
    """The (n, d) float32 candidate matrix kept in chunk files: ``m[a:b]`` and ``m[rows]`` (an
    integer array) return C-contiguous copies of those rows. Pickles as its file list (a Ray
    worker reads the same files; on a cluster they must be on a shared folder)."""

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, files: Sequence[ChunkFile], dimension: int) -> None:
        self.files, self.dimension = tuple(files), int(dimension)
        self.starts = np.concatenate([[0], np.cumsum([f.rows for f in self.files], dtype=np.int64)])
        self.shape = (int(self.starts[-1]), self.dimension)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step == 1:
                return self._range(start, max(start, stop))
            key = np.arange(start, stop, step)
        rows = np.asarray(key)
        if rows.ndim != 1 or not (np.issubdtype(rows.dtype, np.integer) or rows.size == 0):
            raise IndexError("a ChunkedMatrix is indexed by a slice or a 1-d array of row numbers")
        rows = rows.astype(np.int64)
        if rows.size and (rows.min() < -len(self) or rows.max() >= len(self)):
            raise IndexError(f"row out of range for {len(self)} rows")
        return self._rows(np.where(rows < 0, rows + len(self), rows))

    def _range(self, start: int, stop: int) -> np.ndarray:
        out = np.empty((stop - start, self.dimension), dtype=np.float32)
        origin, first = start, int(np.searchsorted(self.starts, start, side="right")) - 1
        row_bytes = self.dimension * 4
        while start < stop:
            file, base = self.files[first], int(self.starts[first])
            end = min(stop, base + file.rows)
            target = out[start - origin : end - origin]
            with open(file.path, "rb") as handle:
                handle.seek(file.offset + (start - base) * row_bytes)
                if handle.readinto(memoryview(target).cast("B")) != target.nbytes:
                    raise XbenchError(f"embedding cache {file.path}: shorter than its header says")
            start, first = end, first + 1
        return out

    def _rows(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), self.dimension), dtype=np.float32)
        owner = np.searchsorted(self.starts, rows, side="right") - 1
        for chunk in np.unique(owner):
            chosen = np.flatnonzero(owner == chunk)
            file = self.files[int(chunk)]
            mapped = np.memmap(file.path, dtype=np.float32, mode="r", offset=file.offset, shape=(file.rows, self.dimension))
            out[chosen] = mapped[rows[chosen] - self.starts[chunk]]
            del mapped  # unmapped now: no page of the file stays mapped after the read
        return out


def _digest(keys: np.ndarray) -> str:
    return hashlib.sha256(keys.tobytes()).hexdigest()


def embed_corpus(encoder: Encoder, texts: TextSource, role: str, options: EncoderOptions, cache: EmbeddingCache,
                 quiet: bool = True, stats: EmbedStats | None = None,
                 encode_batches: EncodeBatches | None = None) -> ChunkedMatrix:
    """The vectors of every text of ``texts``, in order, as a :class:`ChunkedMatrix` over the
    cache's chunk files: present chunks are reused, missing ones encoded (``encode_batches``,
    default here) and stored as each arrives. ``stats`` count texts distinct within a chunk."""
    stats = stats if stats is not None else EmbedStats()
    namespace = cache.namespace(encoder.fingerprint, role, options.prompt(role))
    chunks = list(texts.chunks())
    files: list[ChunkFile | None] = [None] * len(chunks)
    digests, distinct, missing = [], [], []
    dim: int | None = None
    for i, chunk in enumerate(chunks):
        items = chunk.locator.texts()
        keys = text_keys(items)
        digests.append(_digest(keys))
        distinct.append(len(set(items)))
        path = cache.chunk_path(namespace, digests[i])
        found = cached_chunk(cache, path, keys) if path.is_file() else None
        if found is not None and dim in (None, found[1]):
            files[i], dim = found
            cache.stats.hits += len(items)
        else:
            missing.append(i)
        stats.unique += distinct[i]
    if missing:
        with bar(sum(distinct[i] for i in missing), f"encoding {role} texts", quiet, unit="text") as progress:
            hook = encode_batches or local_batches(encoder, role, options, progress.update)
            for position, vectors in hook([chunks[i].locator for i in missing]):
                i = missing[position]
                keys = text_keys(chunks[i].locator.texts())
                if _digest(keys) != digests[i]:
                    where = getattr(chunks[i].locator, "path", "the candidate texts")
                    raise XbenchError(f"{where}: changed while being embedded (chunk of columns {chunks[i].columns.start}..)")
                check_dimension(encoder, vectors, len(keys), dim)
                dim = vectors.shape[1]
                path = cache.store(namespace, keys, vectors, cache.chunk_path(namespace, digests[i]))
                files[i] = chunk_file(path, len(keys), dim)
                stats.encoded += distinct[i]
                if encode_batches is not None:
                    progress.update(distinct[i])
    if dim is None:
        raise XbenchError(f"model {encoder.name}: nothing to encode")
    lost = [i for i, f in enumerate(files) if f is None]
    if lost:
        raise XbenchError(f"model {encoder.name}: encoding returned no vectors for {len(lost)} chunk(s) of {role} texts")
    return ChunkedMatrix(files, dim)  # type: ignore[arg-type]
