"""The default engine: every scan in this process; the plans of a row block on threads (the
kernels release the GIL).

Partials are filled in place as shards are scanned (the same exact reduction as merging one
partial per shard). When every block's partial fits in a quarter of the memory budget (a large
corpus with a few thousand queries), the shards are the outer loop: each shard of candidates is
read and quantised once for all blocks. Otherwise (XQuAD-R's 121 settings keep top-100 lists for
every query) blocks are the outer loop and each is handed on when done, so only one block's lists
are held. The numbers are the same either way.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

from .partials import BlockWork, Partial, scan, shards_first
from .search import Scorer


def default_threads() -> int:
    """Threads for the plans of a row block and the rank correlation's rows: the cores, up to 8."""
    return min(8, os.cpu_count() or 1)


class LocalEngine:
    name = "local"

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or default_threads()

    def encode_hook(self, retriever: object) -> None:
        """No hook: embeddings are encoded in this process (:func:`benchmark.engine.embed.local_batches`)."""
        return None

    def usage(self) -> dict:
        """What a result records of where the work ran: nothing beyond this machine."""
        return {}

    def run(self, scorer: Scorer, works: list[BlockWork], shards: list[slice], memory_budget: int,
            progress: Callable[[int], None] = lambda n: None) -> Iterator[tuple[int, Partial]]:
        """(position in ``works``, its partial over every shard), block after block."""
        with ThreadPoolExecutor(self.threads) as executor:
            if shards_first(works, memory_budget):
                partials = [Partial.empty(work) for work in works]
                for shard in shards:
                    for work, partial in zip(works, partials):
                        if work.overlaps(shard):
                            scan(scorer, work, shard, memory_budget, partial, executor)
                            progress(1)
                yield from enumerate(partials)
                return
            for i, work in enumerate(works):
                partial = Partial.empty(work)
                for shard in work.shards_of(shards):
                    scan(scorer, work, shard, memory_budget, partial, executor)
                    progress(1)
                yield i, partial
