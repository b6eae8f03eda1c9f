"""The headline numbers (PROTOCOL.md, "Scores"): macro means, so that every setting (or every
query language) weighs the same whatever its number of queries."""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np


def macro_mean(values: Iterable[float]) -> float | None:
    """Mean of the values, or None when there are none (a kind the task does not have)."""
    values = list(values)
    return float(np.mean(values)) if values else None


def headline_scores(settings: Iterable[Mapping]) -> dict[str, float | None]:
    """Mono, Cross and Multi mAP and rank distance from per-setting records (kind, map, rank_distance)."""
    settings = list(settings)
    return {
        "mono": macro_mean(s["map"] for s in settings if s["kind"] == "mono"),
        "cross": macro_mean(s["map"] for s in settings if s["kind"] == "cross"),
        "multi": macro_mean(s["map"] for s in settings if s["kind"] == "multi"),
        "rank_distance": macro_mean(s["rank_distance"] for s in settings if s["kind"] == "multi"),
    }
