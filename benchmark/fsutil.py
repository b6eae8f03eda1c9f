"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Everything xbench writes (results, cache shards, downloads) goes through here so that Ctrl-C or a
kill mid-run cannot leave a truncated file behind; :func:`check_writable` refuses, before any
work, a folder that could not be written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterator

from benchmark.errors import UsageError


def _default_mode() -> int:
    """What open() would give a new file: 0o666 less the umask (mkstemp alone gives 0o600)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _default_mode()


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; rename it over ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": "\n"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_writable(folder: Path, option: str) -> None:
    """Refuse (exit 2, naming ``option``) a folder that cannot be created or written; creates nothing.

    Walks up to the nearest existing ancestor: it must be a folder in which a file can be made.
    Called before a model is loaded, so that a result that could not be saved costs nothing.
    """
    try:
        probe = Path(folder)
        while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            where = "" if probe == Path(folder) else f" ({probe} is not a folder)"
            raise UsageError(f"{option} {folder}: not a folder{where}")
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise UsageError(f"{option} {folder}: cannot write there ({exc.strerror or exc})") from None


def safe_name(text: str, limit: int = 80) -> str:
    """A file-name-safe, traversal-free rendering of a model name."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text.replace("/", "__")).strip("._-")
    return (name or "model")[:limit]


@contextlib.contextmanager
def prepared_writes(files: dict[Path, bytes]) -> Iterator[Callable[[], None]]:
    """Write every file to a temporary sibling first; yield a function that renames them all into place.

    Several files that must change together (a board's README.md and index.html) are then either
    all new or all old: when one rename fails the files already renamed get their old bytes back.
    Temporaries left over (nothing committed, or an error) are removed on exit.
    """
    temps: dict[Path, str] = {}
    try:
        for path, data in files.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temps[path] = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        yield lambda: _rename_all(temps)
    finally:
        for tmp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _rename_all(temps: dict[Path, str]) -> None:
    old = {path: path.read_bytes() if path.is_file() else None for path in temps}
    done: list[Path] = []
    try:
        for path, tmp in temps.items():
            os.replace(tmp, path)
            done.append(path)
    except BaseException:
        for path in done:
            if old[path] is None:
                path.unlink()
            else:
                atomic_write_bytes(path, old[path])
        raise
