"""Finding a task's files on disk, downloading the pinned originals, and checking their SHA-256.

Resolution order: an explicit ``--data-dir``, then ``$XBENCH_DATA``, then the user cache (filled on
first use from the task's pinned upstream URLs). The first two take several roots separated by
``os.pathsep`` (like PATH), and each root R is searched as R and as R/<the task's data_folder>, so
one setting (``XBENCH_DATA=../shared/data``) serves tasks whose data lie in different folders. The
first location holding all the files asked for wins. An explicit location is authoritative: if none
of its places holds the files we say so rather than silently reading (or downloading) another copy.
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


def _locations(definition: TaskDefinition, data_dir: Path | str | None) -> tuple[list[Path], str]:
    """The places to look, in order, and how they were given; no places means the user cache."""
    if data_dir is not None:
        spec, how = str(data_dir), "--data-dir"
    else:
        spec, how = os.environ.get(DATA_ENV, ""), f"${DATA_ENV}"
    folders = ("", definition.data_folder) if definition.data_folder else ("",)
    places: list[Path] = []
    for entry in spec.split(os.pathsep):
        if not entry:  # a leading, trailing or doubled separator names nothing
            continue
        for place in (Path(entry) / folder for folder in folders):
            if place not in places:
                places.append(place)
    if not places and data_dir is not None:
        raise DataUnavailable(f"task {definition.name}: --data-dir {spec!r} names no directory")
    return places, how


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
    data_dir: Path | str | None = None,
    allow_modified: bool = False,
    download: bool = True,
) -> ResolvedData:
    """Locate (or fetch) the files that ``langs`` of ``definition`` need and verify them."""
    wanted = definition.files_for(langs)
    places, how = _locations(definition, data_dir)
    if places:
        root = _choose(definition, wanted, places, how)
    else:
        root = default_data_cache()
        missing = [rel for rel in wanted if not os.path.isfile(root / rel)]
        if missing and not download:
            raise DataUnavailable(f"task {definition.name}: {root / missing[0]} not found (looked in the user cache); {_hint(definition)}")
        if missing:
            _fetch(definition, missing, root)
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


def _hint(definition: TaskDefinition) -> str:
    folder = f" or DIR/{definition.data_folder}" if definition.data_folder else ""
    return (f"pass --data-dir DIR or set {DATA_ENV}=DIR (several separated by {os.pathsep!r}), "
            f"where DIR{folder} holds {definition.language_paths('<lang>')[0]}")


def _choose(definition: TaskDefinition, wanted: dict[str, str], places: list[Path], how: str) -> Path:
    """The first place holding every wanted file; else an error naming what the best place lacks."""
    missing = [[rel for rel in wanted if not os.path.isfile(place / rel)] for place in places]  # isfile: False, never raises
    for place, lacking in zip(places, missing):
        if not lacking:
            return place
    best = min(range(len(places)), key=lambda i: len(missing[i]))  # the first among the fullest
    looked = ", ".join(str(place) for place in places)
    raise DataUnavailable(f"task {definition.name}: {places[best] / missing[best][0]} not found "
                          f"(looked in {how}: {looked}); {_hint(definition)}")


def _fetch(definition: TaskDefinition, missing: list[str], root: Path) -> None:
    """Download ``missing`` into the user cache ``root`` from the pinned URLs, checking each file."""
    url_pattern = definition.source.get("url")
    if not url_pattern:
        raise DataUnavailable(f"task {definition.name}: data not found in {root} and the definition gives no download url")
    for rel in missing:
        _download(url_pattern.format(file=rel), root / rel)
        if sha256_file(root / rel) != definition.files[rel]:
            (root / rel).unlink()
            raise DataUnavailable(f"{url_pattern.format(file=rel)}: downloaded file does not match its pinned SHA-256")
