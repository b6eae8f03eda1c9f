"""The on-disk embedding cache: content-addressed, append-only shards, written atomically.

A namespace is one (model fingerprint, role, prompt); inside it every vector is keyed by the
SHA-256 of its text. Each write adds a shard (``.npz`` holding keys, vectors and a checksum of
both), renamed into place only once complete, so an interrupted run keeps every finished batch and
a reader never sees half a shard. A shard that fails its checksum or cannot be read is moved
aside and its texts are encoded again. Embeddings are stored raw; normalisation happens on read.

A shard is named by a random id, or, for one chunk of a streamed corpus (:mod:`.chunked`), by
the SHA-256 of the chunk's keys in order (``chunk-<hex>.npz``), so that the chunk can be found
again without reading the rest of the namespace; it is an ordinary shard all the same.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from benchmark.errors import XbenchError
from benchmark.fsutil import atomic_open

CACHE_ENV = "XBENCH_CACHE"
log = logging.getLogger("xbench.cache")


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path(platformdirs.user_cache_dir("xbench")) / "embeddings"


def text_keys(texts: list[str]) -> np.ndarray:
    """(n, 32) uint8 SHA-256 of each text: the content address.

    JSON may carry lone surrogates ("\\ud800"), which strict UTF-8 refuses; "surrogatepass" gives
    them bytes of their own and leaves every valid text's key as it was.
    """
    out = np.empty((len(texts), 32), dtype=np.uint8)
    for i, text in enumerate(texts):
        out[i] = np.frombuffer(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest(), dtype=np.uint8)
    return out


def checksum_of(keys: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """SHA-256 of the keys' bytes, the vectors' shape and the vectors' bytes, fed in turn (no
    concatenated copy: a corpus chunk's vectors are tens of MB)."""
    digest = hashlib.sha256()
    for part in (np.ascontiguousarray(keys), str(vectors.shape).encode(), np.ascontiguousarray(vectors)):
        digest.update(memoryview(part).cast("B") if isinstance(part, np.ndarray) else part)
    return np.frombuffer(digest.digest(), dtype=np.uint8)


@dataclass
class CacheStats:
    hits: int = 0
    corrupt_shards: int = 0


class EmbeddingCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.stats = CacheStats()

    @staticmethod
    def namespace(fingerprint: str, role: str, prompt: str) -> str:
        return hashlib.sha256(f"{fingerprint}\0{role}\0{prompt}".encode("utf-8", "surrogatepass")).hexdigest()[:32]

    def _dir(self, namespace: str) -> Path:
        return self.root / namespace

    def chunk_path(self, namespace: str, digest: str) -> Path:
        """Where the shard of a corpus chunk whose keys hash to ``digest`` is kept."""
        return self._dir(namespace) / f"chunk-{digest}.npz"

    def read_shard(self, path: Path) -> tuple[np.ndarray, np.ndarray] | None:
        """(keys, vectors) of a shard whose checksum holds; a corrupt one is moved aside (None)."""
        try:
            with np.load(path, allow_pickle=False) as npz:
                keys, vectors, checksum = npz["keys"], npz["vectors"], npz["checksum"]
            if keys.ndim == 2 and keys.shape[1] == 32 and vectors.ndim == 2 and len(keys) == len(vectors):
                if np.array_equal(checksum, checksum_of(keys, vectors)):
                    return keys, vectors
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass
        self.set_aside(path)
        return None

    def set_aside(self, path: Path) -> None:
        """A shard found corrupt: counted, renamed ``.corrupt`` (never read again), its texts
        encoded again."""
        self.stats.corrupt_shards += 1
        log.warning("embedding cache: %s is corrupt; its texts will be encoded again", path)
        try:
            os.replace(path, path.with_suffix(".corrupt"))
        except OSError:
            pass

    def lookup(self, namespace: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(found mask, vectors with rows for found keys filled in, or None if nothing was found)."""
        found = np.zeros(len(keys), dtype=bool)
        out: np.ndarray | None = None
        wanted = {keys[i].tobytes(): i for i in range(len(keys))}
        folder = self._dir(namespace)
        shards = sorted(folder.glob("*.npz")) if folder.is_dir() else []
        for shard in shards:
            loaded = self.read_shard(shard)
            if loaded is None:
                continue
            shard_keys, vectors = loaded
            if out is None:
                out = np.zeros((len(keys), vectors.shape[1]), dtype=np.float32)
            elif vectors.shape[1] != out.shape[1]:
                continue  # cannot happen for one fingerprint; ignore rather than mix dimensions
            for row, key in enumerate(shard_keys):
                i = wanted.get(key.tobytes())
                if i is not None and not found[i]:
                    out[i] = vectors[row]
                    found[i] = True
        self.stats.hits += int(found.sum())
        return found, out

    def store(self, namespace: str, keys: np.ndarray, vectors: np.ndarray, path: Path | None = None) -> Path:
        """Add one shard (at ``path``, else under a unique name); returns its path. Safe against
        concurrent writers: names are unique, or (a chunk's) name the same content."""
        keys = np.ascontiguousarray(keys, dtype=np.uint8)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        checksum = checksum_of(keys, vectors)
        path = path or self._dir(namespace) / f"{uuid.uuid4().hex}.npz"
        try:
            with atomic_open(path, "wb") as handle:  # written in place: no copy of the vectors in memory
                np.savez(handle, keys=keys, vectors=vectors, checksum=checksum)
        except OSError as exc:  # full disk, read-only or vanished folder: say where, not a traceback
            raise XbenchError(f"embedding cache {self.root}: cannot write ({exc.strerror or exc})") from None
        return path
