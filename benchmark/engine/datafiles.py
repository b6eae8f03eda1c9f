"""Finding a task's files on disk, downloading the pinned originals, and checking their SHA-256.

Resolution order: an explicit ``--data-dir``, then ``$XBENCH_DATA``, then the user cache (filled on
first use from the task's pinned upstream URLs). An explicit location is authoritative: if it lacks
a file we say so rather than silently reading another copy.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from benchmark.errors import XbenchError
from benchmark.fsutil import atomic_open, sha256_file
from .taskdef import TaskDefinition

DATA_ENV = "XBENCH_DATA"


class DataUnavailable(XbenchError):
    """The task's files cannot be had as asked: not found (nor downloaded), or not the pinned ones.

    Its own class so that a caller for whom the data is optional (``xbench tasks``, validation
    against the canonical data) can tell "no data here" from data that is there but unreadable.
    """


@dataclass(frozen=True)
class ResolvedData:
    """Where a task's files were found, their checksums, and whether they are the canonical ones."""

    root: Path
    checksums: dict[str, str]
    modified: tuple[str, ...]

    @property
    def official(self) -> bool:
        return not self.modified


def default_data_cache() -> Path:
    return Path(platformdirs.user_cache_dir("xbench")) / "data"


def _candidate_roots(data_dir: Path | None) -> list[tuple[Path, str, bool]]:
    """(root, how it was chosen, may download into it)."""
    if data_dir is not None:
        return [(Path(data_dir), "--data-dir", False)]
    env = os.environ.get(DATA_ENV)
    if env:
        return [(Path(env), f"${DATA_ENV}", False)]
    return [(default_data_cache(), "the user cache", True)]


def _download(url: str, dest: Path, timeout: float = 60.0) -> None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_open(dest, "wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataUnavailable(f"cannot download {url} ({reason})") from None


def resolve_data(
    definition: TaskDefinition,
    langs: tuple[str, ...],
    data_dir: Path | None = None,
    allow_modified: bool = False,
    download: bool = True,
) -> ResolvedData:
    """Locate (or fetch) the files that ``langs`` of ``definition`` need and verify them."""
    wanted = definition.files_for(langs)
    root, how, may_download = _candidate_roots(data_dir)[0]
    missing = [rel for rel in wanted if not (root / rel).is_file()]
    if missing and may_download and download:
        url_pattern = definition.source.get("url")
        if not url_pattern:
            raise DataUnavailable(f"task {definition.name}: data not found in {root} and the definition gives no download url")
        for rel in missing:
            _download(url_pattern.format(file=rel), root / rel)
            if sha256_file(root / rel) != wanted[rel]:
                (root / rel).unlink()
                raise DataUnavailable(f"{url_pattern.format(file=rel)}: downloaded file does not match its pinned SHA-256")
        missing = []
    if missing:
        hint = f"pass --data-dir DIR or set {DATA_ENV}=DIR, where DIR holds {definition.language_paths('<lang>')[0]}"
        raise DataUnavailable(f"task {definition.name}: {root / missing[0]} not found (looked in {how}: {root}); {hint}")
    checksums, modified = {}, []
    for rel, expected in sorted(wanted.items()):
        actual = sha256_file(root / rel)
        checksums[rel] = actual
        if actual != expected:
            modified.append(rel)
    if modified and not allow_modified:
        raise DataUnavailable(
            f"{root / modified[0]}: SHA-256 differs from the task's pinned checksum "
            "(use --allow-modified-data to evaluate it anyway; the result is then marked unofficial)"
        )
    return ResolvedData(root=root, checksums=checksums, modified=tuple(modified))
