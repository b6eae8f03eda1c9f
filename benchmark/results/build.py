"""From the scores of a run to the result document and its per-query table.

The document's keys are written in one fixed order (the order of schema version 1), so two runs
of the same inputs give the same bytes; only ``xbench_version``, ``timings`` and ``hardware`` say
where and when they ran.
"""

from __future__ import annotations

import platform
from typing import Any

import numpy as np
import pandas as pd

from benchmark import RESULT_SCHEMA_VERSION, __version__
from benchmark.engine.scoring import SettingScores
from benchmark.metrics import metric_spec
from benchmark.metrics.aggregate import KINDS, aggregates, defined_mean, headline_scores, kinds_of
from benchmark.metrics.bias import BIAS_MEASURES
from .result import TaskResult


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else 0.0


def setting_records(scores: list[SettingScores], metrics: tuple[str, ...]) -> list[dict[str, Any]]:
    """One record per setting: its key, mAP, query count, and the mean of each other metric of
    ``metrics`` it has (accuracy when asked for, rank distance and the bias measures on the
    multilingual pool, cutoffs). A bias measure's value is the mean over the queries it is
    defined for, None when it is defined for none."""
    records = []
    for s in scores:
        record: dict[str, Any] = {**s.setting.fields(), "map": s.map, "n_queries": len(s.query_ids)}
        if s.rank_distance is not None:
            record["rank_distance"] = _mean(s.rank_distance)
        if s.bias:
            record.update((name, defined_mean(s.bias[name])) for name in BIAS_MEASURES)
        if "accuracy" in metrics:
            record["accuracy"] = _mean(s.accuracy)
        for name, values in s.cutoff.items():
            record[name] = _mean(values)
        records.append(record)
    return records


def cutoff_aggregates(records: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, dict[str, float | None]]:
    """Each cutoff metric aggregated by setting kind, as its spec says (a macro mean, like mAP)."""
    return {
        kind: {name: metric_spec(name).aggregate(records, kind) for name in names}
        for kind in KINDS
        if any(r["kind"] == kind for r in records)
    }


def per_query_frame(scores: list[SettingScores], metrics: tuple[str, ...]) -> pd.DataFrame:
    frames = []
    for s in scores:
        columns: dict[str, Any] = {
            **s.setting.fields(),
            "query_id": s.query_ids,
            "ap": s.ap,
            "n_relevant": s.n_relevant,
            "rank_distance": s.rank_distance if s.rank_distance is not None else np.nan,
            **{name: s.bias.get(name, np.nan) for name in BIAS_MEASURES},
        }
        if "accuracy" in metrics:
            columns["accuracy"] = s.accuracy
        columns.update(s.cutoff)
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def hardware() -> dict[str, Any]:
    import os

    from benchmark.engine.search import device_name

    info = {
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "search_device": device_name(),
    }
    try:
        import sys

        if "torch" in sys.modules:
            torch = sys.modules["torch"]
            info["torch"] = torch.__version__
            info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:
        pass
    return info


def build_result(
    *,
    definition: Any,
    languages: tuple[str, ...],
    model: dict[str, Any],
    data: Any,
    candidate_text: str,
    scores: list[SettingScores],
    timings: dict[str, float],
    encoding: dict[str, Any],
    counts: dict[str, dict[str, int]],
    roles: dict[str, dict[str, str]],
    metrics: tuple[str, ...],
    requested_metrics: tuple[str, ...] = (),
    sample: dict[str, int] | None = None,
    perturbation: dict[str, Any] | None = None,
) -> TaskResult:
    """The result of a run, in memory; ``TaskResult.to_dir`` writes it. ``metrics``: every metric
    computed (the definition's, then ``requested_metrics``, those ``--metrics`` added)."""
    records = setting_records(scores, metrics)
    cutoffs = tuple(m for m in metrics if "@" in m)
    result = {
        "schema_version": RESULT_SCHEMA_VERSION,
        "xbench_version": __version__,
        "task": definition.name,
        "task_definition": {
            "name": definition.name,
            "version": definition.version,
            "format": definition.format,
            "languages": list(definition.languages),
            "metrics": list(metrics),
            "pairing": definition.pairing,
            "pivot": definition.pivot,
            "symmetric": definition.symmetric,
            "groups": {name: list(members) for name, members in definition.groups.items()},
        },
        "requested_metrics": list(requested_metrics),
        "languages": list(languages),
        "complete": tuple(languages) == tuple(definition.languages) and not sample,
        "sample": sample,
        "candidate_text": candidate_text,
        "counts": counts,
        "model": model,
        "data": {"checksums": data.checksums, "official": data.official, "modified_files": list(data.modified)},
        "roles": roles,
        "scores": headline_scores(records),
        "cutoff_scores": cutoff_aggregates(records, cutoffs),
        "aggregates": aggregates(records, metrics, kinds_of(records), definition.pivot, definition.groups),
        "settings": records,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "encoding": encoding,
        "hardware": hardware(),
    }
    if perturbation is not None:  # a clean result's document stays as it always was
        result["perturbation"] = perturbation
    return TaskResult(result, per_query_frame(scores, metrics))
