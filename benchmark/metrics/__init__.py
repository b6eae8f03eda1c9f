"""Metrics, one module each, all working on the same per-query rankings.

- :mod:`.ranking`: pessimistic ranks of the relevant candidates over the full pool (the one place
  that decides what a tie means);
- :mod:`.average_precision`: AP over the full ranking (PROTOCOL.md, "Scores");
- :mod:`.rank_distance`: max rank - min rank of a query's relevant candidates (language bias);
- :mod:`.cutoff`: nDCG@k, Recall@k, MRR@k, mAP@k by ranx on the top-k of the same ranking;
- :mod:`.aggregate`: the macro means (Mono, Cross, Multi, rank distance).
"""

from __future__ import annotations

from typing import Iterable

FULL_RANKING_METRICS = ("map", "rank_distance")
CUTOFF_FAMILIES = ("ndcg", "recall", "mrr", "map", "precision", "hit_rate")


def check_metric_names(names: Iterable[str]) -> None:
    """Raise ValueError naming the first metric xbench cannot compute."""
    for name in names:
        if name in FULL_RANKING_METRICS:
            continue
        family, _, k = name.partition("@")
        if family not in CUTOFF_FAMILIES or not k.isdigit() or int(k) <= 0:
            raise ValueError(
                f"unknown metric {name!r} (use {', '.join(FULL_RANKING_METRICS)} or FAMILY@K with FAMILY in {', '.join(CUTOFF_FAMILIES)})"
            )
