"""Cutting a span of candidate columns into shards: the unit a scan reads, scores and forgets.

Shard boundaries fall on multiples of the shard size counted from column 0, whatever span is cut,
so the spans of different query parts (one language's pool, the pool of all languages) share
their shards, and a scorer's kept shard serves the next part too. Nothing computed depends on the
cut: counts add and top lists merge exactly (:mod:`benchmark.metrics.ranking`).
"""

from __future__ import annotations

MIN_SHARD = 1024  # columns: below this, per-shard overhead outweighs the memory saved


def column_shards(span: slice, shard_size: int) -> list[slice]:
    """``span`` cut at the multiples of ``shard_size``."""
    if shard_size < 1:
        raise ValueError("shard size must be at least 1")
    shards = []
    start = span.start
    while start < span.stop:
        stop = min(span.stop, (start // shard_size + 1) * shard_size)
        shards.append(slice(start, stop))
        start = stop
    return shards


def default_shard_size(memory_budget: int, column_bytes: int, n_candidates: int) -> int:
    """Columns per shard: a shard's candidates take at most half the memory budget (the other half
    is the block of scores); every candidate in one shard when the scorer holds them all anyway
    (``column_bytes`` 0) or when they fit."""
    if column_bytes <= 0:
        return max(1, n_candidates)
    return max(MIN_SHARD, min(max(1, n_candidates), (memory_budget // 2) // column_bytes))
