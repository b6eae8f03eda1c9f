"""Where the tests find the real LAReQA data: $XBENCH_DATA, else ../shared/data/lareqa beside the
checkout (as on CI). None when absent: the real-data tests then skip."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_lareqa() -> Path | None:
    for candidate in (os.environ.get("XBENCH_DATA"), REPO.parent / "shared" / "data" / "lareqa"):
        if candidate and (Path(candidate) / "xquad-r").is_dir() and (Path(candidate) / "mlqa-r").is_dir():
            return Path(candidate)
    return None


SHARED_LAREQA = shared_lareqa()
