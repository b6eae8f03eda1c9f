"""The headline numbers (PROTOCOL.md, "Scores"): macro means, so that every setting (or every
query language) weighs the same whatever its number of queries. How each metric aggregates and
over which kinds is its spec's (:data:`benchmark.metrics.METRICS`)."""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from benchmark.metrics import METRICS

KINDS = ("mono", "cross", "multi")
BIAS_METRICS = ("rank_distance",)  # headline metrics named by themselves, over the kinds they apply to


def macro_mean(values: Iterable[float]) -> float | None:
    """Mean of the values, or None when there are none (a kind the task does not have)."""
    values = list(values)
    return float(np.mean(values)) if values else None


def headline_scores(settings: Iterable[Mapping]) -> dict[str, float | None]:
    """Mono, Cross and Multi mAP (each named by its kind), then each bias metric (named by
    itself), from per-setting records (kind, map, rank_distance)."""
    settings = list(settings)
    ap = METRICS.get("map")
    scores = {kind: ap.aggregate(settings, kind) for kind in KINDS}
    scores.update((name, METRICS.get(name).aggregate(settings)) for name in BIAS_METRICS)
    return scores
