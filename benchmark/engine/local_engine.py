"""The default engine: every scan in this process, one query block at a time, shard after shard.

A block's partial is filled in place as its shards are scanned (the same exact reduction as
merging one partial per shard) and handed on as soon as the block is done, so only one block's
top lists are held at a time. The plans of a row block run on threads (the kernels release the GIL).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

from .partials import BlockWork, Partial, scan
from .search import Scorer


class LocalEngine:
    name = "local"

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or min(8, os.cpu_count() or 1)

    def usage(self) -> dict:
        """What a result records of where the work ran: nothing beyond this machine."""
        return {}

    def run(self, scorer: Scorer, works: list[BlockWork], shards: list[slice], memory_budget: int,
            progress: Callable[[int], None] = lambda n: None) -> Iterator[tuple[int, Partial]]:
        """(position in ``works``, its partial over every shard), block after block."""
        with ThreadPoolExecutor(self.threads) as executor:
            for i, work in enumerate(works):
                partial = Partial.empty(work)
                for shard in work.shards_of(shards):
                    scan(scorer, work, shard, memory_budget, partial, executor)
                    progress(1)
                yield i, partial
