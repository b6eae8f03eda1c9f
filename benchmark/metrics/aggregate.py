"""The headline numbers (PROTOCOL.md, "Scores", "Tatoeba"): macro means, so that every setting
(or every query language) weighs the same whatever its number of queries. How each metric
aggregates and over which kinds is its spec's (:data:`benchmark.metrics.METRICS`); which sets of
settings a task reports (kinds, directions, language groups) is :func:`aggregate_scopes`'."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from benchmark.engine.settings import Setting
from benchmark.metrics import METRICS
from benchmark.metrics.bias import BIAS_MEASURES

KINDS = ("mono", "cross", "multi")
# headline metrics named by themselves, over the kinds they apply to (the multilingual pool)
BIAS_METRICS = ("rank_distance", *BIAS_MEASURES)


def macro_mean(values: Iterable[float]) -> float | None:
    """Mean of the values, or None when there are none (a kind the task does not have)."""
    values = list(values)
    return float(np.mean(values)) if values else None


def defined_mean(values: np.ndarray) -> float | None:
    """A setting's value of a measure some queries have none of (NaN): the mean over those that
    have one; None when none has."""
    values = np.asarray(values, dtype=np.float64)
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if len(defined) else None


def headline_scores(settings: Iterable[Mapping]) -> dict[str, float | None]:
    """Mono, Cross and Multi mAP (each named by its kind), then each bias metric (named by
    itself: a macro mean over the query languages' multilingual settings that have a value),
    from per-setting records (kind, map, rank_distance, the bias measures)."""
    settings = list(settings)
    ap = METRICS.get("map")
    scores = {kind: ap.aggregate(settings, kind) for kind in KINDS}
    scores.update((name, METRICS.get(name).aggregate(settings)) for name in BIAS_METRICS)
    return scores


Record = Mapping[str, Any]


def direction_scopes(pivot: str) -> tuple[str, str]:
    """The names of a pivot task's two directions, as results, views and the board call them:
    ``xx->eng`` (queries in the language) and ``eng->xx``."""
    return f"xx->{pivot}", f"{pivot}->xx"


def aggregate_scopes(kinds: Sequence[str], pivot: str | None, groups: Mapping[str, Sequence[str]]) -> list[tuple[str, Callable[[Record], bool]]]:
    """The named sets of settings a task's aggregates are macro means over, in report order.

    Parallel task: each setting kind, then each declared group per kind (``high/cross``: the
    settings of that kind between the group's languages, or from them to the pool). Pivot task
    (PROTOCOL.md, "Tatoeba"): ``all``, the two directions (``xx->eng``, ``eng->xx``), then each
    group (its languages' settings, both directions).
    """
    if pivot is not None:
        to_pivot, from_pivot = direction_scopes(pivot)
        scopes = [("all", lambda r: True), (to_pivot, lambda r: r["query_lang"] != pivot),
                  (from_pivot, lambda r: r["query_lang"] == pivot)]
        scopes += [(name, lambda r, members=frozenset(members): Setting.of(r).partner(pivot) in members)
                   for name, members in groups.items()]
        return scopes
    scopes = [(kind, lambda r, kind=kind: r["kind"] == kind) for kind in kinds]
    for name, members in groups.items():
        inside = frozenset(members) | {"all"}
        scopes += [(f"{name}/{kind}", lambda r, kind=kind, inside=inside: r["kind"] == kind and r["query_lang"] in inside
                    and r["corpus_lang"] in inside) for kind in kinds]
    return scopes


def kinds_of(records: Iterable[Record]) -> list[str]:
    """The setting kinds the records hold, in protocol order: the kinds a result aggregates over."""
    present = {r["kind"] for r in records}
    return [kind for kind in KINDS if kind in present]


def aggregates(records: Sequence[Record], metrics: Sequence[str], kinds: Sequence[str], pivot: str | None,
               groups: Mapping[str, Sequence[str]]) -> dict[str, dict[str, float | None]]:
    """Every metric that is a macro mean over settings (all but the bias metrics), per scope of
    :func:`aggregate_scopes`; None where a scope holds no setting of the run."""
    names = [m for m in metrics if m not in BIAS_METRICS]
    return {
        scope: {name: macro_mean(r[name] for r in records if member(r)) for name in names}
        for scope, member in aggregate_scopes(kinds, pivot, groups)
    }
