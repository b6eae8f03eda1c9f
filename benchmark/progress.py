"""Progress bars that vanish under ``--quiet`` or when stderr is not a terminal-friendly place."""

from __future__ import annotations

from tqdm.auto import tqdm


def bar(total: int, desc: str, quiet: bool, unit: str = "it"):
    return tqdm(total=total, desc=desc, unit=unit, disable=quiet, leave=False, dynamic_ncols=True, mininterval=0.5)
