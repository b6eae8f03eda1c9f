"""Metrics, one module each, all working on the same per-query rankings, and what each one means.

- :mod:`.ranking`: pessimistic ranks of the relevant candidates over the full pool (the one place
  that decides what a tie means);
- :mod:`.average_precision`: AP over the full ranking (PROTOCOL.md, "Scores");
- :mod:`.rank_distance`: max rank - min rank of a query's relevant candidates (language bias);
- :mod:`.accuracy`: whether a relevant candidate ranks first (bitext retrieval, PROTOCOL.md "Tatoeba");
- :mod:`.cutoff`: nDCG@k, Recall@k, MRR@k, mAP@k by ranx on the top-k of the same ranking;
- :mod:`.bias`, :mod:`.rank_correlation`: what the multilingual ranking prefers (own-language and
  English share of the top 10, own-language first, mean rank correlation);
- :mod:`.aggregate`: the macro means (Mono, Cross, Multi, rank distance and the bias measures).

Every metric is declared here once, as a :class:`MetricSpec` in :data:`METRICS`: its direction,
its unit, the setting kinds it applies to and how it aggregates. Whatever judges or aggregates a
metric (regression checks, headline scores) asks its spec instead of knowing the metric by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

from benchmark.errors import XbenchError
from benchmark.registry import Registry

PER_KIND = "macro mean over the settings of a kind"


@dataclass(frozen=True)
class MetricSpec:
    """What a metric means to everything that reads it.

    ``higher_is_better``: its direction (a rise of rank distance is a regression, of AP an
    improvement); None for a descriptive measure (the share of the top 10 in the query's own
    language: neither more nor less is better), which is compared and shown, never judged.
    ``unit``: "score" (a fraction in [0, 1]), "correlation" (in [-1, 1]) or "ranks"; a regression
    tolerance is given per unit. ``kinds``: the setting kinds it is computed on (None: every kind).
    ``column``: its per-query column. ``aggregation``: how settings combine into a headline
    number; every metric today is a macro mean, so that each setting weighs the same.
    ``outcome``: "binary" when every per-query value is 0 or 1 (a paired test for binary
    outcomes then applies), else "continuous". ``partial``: some queries may have no value (NaN
    per query: own-language first of a question no other language answers); a setting's value
    is then the mean over those that have one, None when none has.
    """

    name: str
    higher_is_better: bool | None
    unit: str
    column: str
    kinds: tuple[str, ...] | None = None
    aggregation: str = PER_KIND
    outcome: str = "continuous"
    partial: bool = False

    def applies_to(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds

    @property
    def judged(self) -> bool:
        """Whether a change is better or worse (False for a descriptive measure)."""
        return self.higher_is_better is not None

    @property
    def bounds(self) -> tuple[float, float]:
        """The range of a per-query value (and so of every mean of them)."""
        return {"score": (0.0, 1.0), "correlation": (-1.0, 1.0)}.get(self.unit, (0.0, float("inf")))

    def gain(self, delta: float) -> float | None:
        """``delta`` (new minus old) turned so that positive is better; None when neither is."""
        if self.higher_is_better is None:
            return None
        return delta if self.higher_is_better else -delta

    def aggregate(self, records: Iterable[Mapping[str, Any]], kind: str | None = None) -> float | None:
        """The macro mean over the setting records of ``kind`` (default: every kind it applies to)
        that have a value; None when none has (a kind the task lacks, a result written before the
        metric existed, a measure undefined on every setting)."""
        from .aggregate import macro_mean

        return macro_mean(v for r in records if (r["kind"] == kind if kind else self.applies_to(r["kind"]))
                          and (v := r.get(self.name)) is not None)


BINARY_FAMILIES = ("hit_rate",)  # 1 when a relevant candidate is in the top k, else 0
# ranx's metric families that take a cutoff and whose per-query values lie in [0, 1] (ranx's "hits"
# is a count and "dcg" unbounded: the per-query table refuses values outside [0, 1], so they are not offered)
CUTOFF_FAMILIES = ("ndcg", "recall", "mrr", "map", "precision", "hit_rate", "f1", "ndcg_burges")

METRICS: Registry[MetricSpec] = Registry("metric", builtins={
    "map": MetricSpec("map", higher_is_better=True, unit="score", column="ap"),
    "accuracy": MetricSpec("accuracy", higher_is_better=True, unit="score", column="accuracy", outcome="binary"),
    "rank_distance": MetricSpec("rank_distance", higher_is_better=False, unit="ranks", column="rank_distance", kinds=("multi",)),
    # the bias measures of the multilingual pool (PROTOCOL.md, "Language bias beyond rank distance")
    "own_share": MetricSpec("own_share", higher_is_better=None, unit="score", column="own_share", kinds=("multi",)),
    "english_share": MetricSpec("english_share", higher_is_better=None, unit="score", column="english_share", kinds=("multi",),
                                partial=True),
    "own_first": MetricSpec("own_first", higher_is_better=None, unit="score", column="own_first", kinds=("multi",),
                            outcome="binary", partial=True),
    "rank_correlation": MetricSpec("rank_correlation", higher_is_better=True, unit="correlation", column="rank_correlation",
                                   kinds=("multi",), partial=True),
    # the cutoff families: "ndcg@10" is the spec of "ndcg@k" with k = 10
    **{f"{family}@k": MetricSpec(f"{family}@k", higher_is_better=True, unit="score", column=f"{family}@k",
                                 outcome="binary" if family in BINARY_FAMILIES else "continuous")
       for family in CUTOFF_FAMILIES},
})


# K of FAMILY@K: 1 to 999999 in ASCII digits, no leading zero ("ndcg@010" would be a second column
# for ndcg@10, and a K beyond 64 bits overflows ranx's parser)
_CUTOFF = re.compile(r"[1-9][0-9]{0,5}")


def metric_spec(name: str) -> MetricSpec:
    """The spec of ``name``: a full-ranking metric, or FAMILY@K with K from 1 to 999999.
    An unknown name raises XbenchError ("unknown metric ...; available: ...")."""
    family, at, k = name.partition("@")
    if not at:
        return METRICS.get(name)
    if _CUTOFF.fullmatch(k) and f"{family}@k" in METRICS.entries():
        return replace(METRICS.get(f"{family}@k"), name=name, column=name)
    raise XbenchError(METRICS.unknown_message(name, METRICS.names()))


def check_metric_names(names: Iterable[str]) -> None:
    """Raise XbenchError naming the first metric xbench cannot compute."""
    for name in names:
        metric_spec(name)
