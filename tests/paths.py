"""Where the tests find the real data: each $XBENCH_DATA entry (roots separated by os.pathsep) and its
task folder, as xbench itself looks, then ../shared/data beside the checkout (as on CI). None when
absent: the real-data tests then skip."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]


def _find(folder: str, holds: Callable[[Path], bool]) -> Path | None:
    """The first of each root R and R/``folder`` that ``holds`` the data."""
    roots = [Path(entry) for entry in os.environ.get("XBENCH_DATA", "").split(os.pathsep) if entry]
    for root in roots + [REPO.parent / "shared" / "data"]:
        for candidate in (root, root / folder):
            if holds(candidate):
                return candidate
    return None


def shared_lareqa() -> Path | None:
    """The folder holding xquad-r/ and mlqa-r/."""
    return _find("lareqa", lambda path: (path / "xquad-r").is_dir() and (path / "mlqa-r").is_dir())


def shared_tatoeba() -> Path | None:
    """The folder holding v1/tatoeba.*."""
    return _find("tatoeba", lambda path: (path / "v1" / "tatoeba.afr-eng.afr").is_file())


def shared_data() -> str | None:
    """An $XBENCH_DATA value serving every task whose data is present (the folders joined by os.pathsep)."""
    found = [str(path) for path in (SHARED_LAREQA, SHARED_TATOEBA) if path is not None]
    return os.pathsep.join(found) or None


SHARED_LAREQA = shared_lareqa()
SHARED_TATOEBA = shared_tatoeba()
SHARED_DATA = shared_data()
