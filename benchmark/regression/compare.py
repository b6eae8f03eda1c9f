"""Two results of the same task side by side, setting by setting, with paired significance.

Used by ``xbench compare`` and ``xbench check``. Values are recomputed from the per-query rows
both results share (for two full runs: every query, so they equal the stated mAPs), which lets a
sampled or language-subset run be compared with a full baseline like for like. Each setting's
difference is tested on its paired per-query AP, each aggregate on the pooled per-query values of
its settings, and the p-values are Holm-corrected over everything tested.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.engine.settings import Setting
from benchmark.errors import UsageError, XbenchError
from benchmark.metrics import metric_spec
from benchmark.metrics.aggregate import BIAS_METRICS, KINDS
from benchmark.results import TaskResult
from benchmark.results.io import read_json
from benchmark.results.schema import PER_QUERY_SUFFIX
from .significance import holm, paired_frame, p_value


@dataclass
class Comparison:
    """One compared quantity: a setting's mAP, or an aggregate (Mono, Cross, Multi mAP or a bias
    metric such as the rank distance: then ``setting`` is None and ``kind`` names the aggregate).
    ``metric`` names the spec that says which way is better."""

    kind: str
    setting: Setting | None
    metric: str
    a: float
    b: float
    n: int
    p: float
    p_holm: float = 1.0
    status: str | None = None  # set by a regression check

    @property
    def delta(self) -> float:
        return self.b - self.a

    @property
    def label(self) -> str:
        return self.setting.label if self.setting else f"{self.kind} (aggregate)"

    def to_dict(self) -> dict[str, Any]:
        """The row as ``--json`` prints it."""
        row = {"kind": self.kind, "query_lang": self.setting.query_lang if self.setting else "",
               "corpus_lang": self.setting.corpus_lang if self.setting else "", "a": self.a, "b": self.b, "delta": self.delta,
               "n": self.n, "p": self.p, "p_holm": self.p_holm}
        return row if self.status is None else dict(row, status=self.status)


def load(path: Path, task: str | None = None) -> list[TaskResult]:
    """The result in a file, or every result in a folder (the JSON files that claim to be
    results, see :func:`claims_to_be_result`); each validated on load."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if not p.name.startswith(".") and (not task or p.stem == task))
        files = [p for p in files if claims_to_be_result(p)]
    elif path.is_file():
        files = [path]
    else:
        raise UsageError(f"{path}: no such result file or folder")
    loaded = [TaskResult.from_file(file) for file in files]
    if not loaded:
        raise UsageError(f"{path}: no result files" + (f" for task {task}" if task else ""))
    return loaded


def claims_to_be_result(path: Path) -> bool:
    """Whether a JSON file found in a result folder is read as a result: when its per-query table
    (``<stem>.per_query.csv.gz``) lies beside it, or when it is an object with a
    ``schema_version`` key. Other JSON files (notes, configs) are skipped; one that claims to be a
    result is read, and refused if malformed."""
    if os.path.lexists(path.with_name(path.stem + PER_QUERY_SUFFIX)):
        return True
    try:
        doc = read_json(path, strict=False)
    except XbenchError:
        return False
    return isinstance(doc, dict) and "schema_version" in doc


def incomparable(a: TaskResult, b: TaskResult) -> str | None:
    """Why result ``b`` cannot be compared with ``a``, or None. ``b`` may cover fewer languages
    or queries than ``a`` (a fast check against a full baseline), never other data or settings."""
    if a.task != b.task:
        return f"different tasks ({a.task} vs {b.task})"
    if a.candidate_text != b.candidate_text:
        return f"different candidate text ({a.candidate_text} vs {b.candidate_text})"
    absent = [lang for lang in b.languages if lang not in a.languages]
    if absent:
        return f"language(s) {', '.join(absent)} of {b.task} missing from the baseline"
    checksums = a.data.checksums
    for name, digest in b.data.checksums.items():
        if checksums.get(name) != digest:
            return f"different data checksums ({name})"
    missing = [s.setting for s in b.settings if not a.has(s.setting)]
    if missing:
        return f"{len(missing)} setting(s) of {b.task} missing from the baseline, e.g. {missing[0].label}"
    return None


def compare_task(a: TaskResult, b: TaskResult, test: str = "student") -> list[Comparison]:
    """The aggregates and every setting of ``b`` compared with ``a``, with raw and Holm p-values."""
    reason = incomparable(a, b)
    if reason:
        raise UsageError(f"cannot compare {a.task} results: {reason}")
    ap = metric_spec("map")
    bias = [metric_spec(name) for name in BIAS_METRICS]
    joined, unmatched = paired_frame(a.per_query, b.per_query, (ap.column, *(spec.column for spec in bias)))
    if len(unmatched):  # a query of b the baseline lacks: other data, not a sample of it
        first = unmatched.iloc[0]
        raise UsageError(f"cannot compare {a.task} results: {len(unmatched)} queries missing from the baseline, "
                         f"e.g. {first.query_id!r} in {Setting.of(first).label}")
    groups = {Setting(*key): part for key, part in joined.groupby(list(Setting.FIELDS), sort=False)}
    settings = [s.setting for s in b.settings if s.setting in groups]
    if sorted(a.languages) != sorted(b.languages):
        # a language subset has a smaller multilingual pool: its ranks there are not the baseline's
        settings = [k for k in settings if k.kind != "multi"]
    rows: list[Comparison] = []
    for kind in KINDS:  # Mono, Cross, Multi: AP over the settings of each kind
        keys = [k for k in settings if k.kind == kind]
        if keys:
            rows.append(_pooled(kind, ap.name, [groups[k] for k in keys], ap.column, test))
    for spec in bias:  # each bias metric over the settings it applies to, named by itself
        parts = [groups[k] for k in settings if spec.applies_to(k.kind)]
        if parts:
            rows.append(_pooled(spec.name, spec.name, parts, spec.column, test))
    for key in settings:
        part = groups[key]
        values_a, values_b = part[f"{ap.column}_a"], part[f"{ap.column}_b"]
        rows.append(_compared(key.kind, key, ap.name, values_a.mean(), values_b.mean(), values_a, values_b, test))
    for row, adjusted in zip(rows, holm([r.p for r in rows])):
        row.p_holm = float(adjusted)
    return rows


def _pooled(kind: str, metric: str, parts: list[pd.DataFrame], column: str, test: str) -> Comparison:
    """An aggregate: the macro mean over its settings, tested on their pooled per-query values."""
    pooled = pd.concat(parts)
    return _compared(kind, None, metric, np.mean([p[f"{column}_a"].mean() for p in parts]), np.mean([p[f"{column}_b"].mean() for p in parts]),
                     pooled[f"{column}_a"], pooled[f"{column}_b"], test)


def _compared(kind: str, setting: Setting | None, metric: str, value_a: float, value_b: float, per_a: Any, per_b: Any, test: str) -> Comparison:
    return Comparison(kind, setting, metric, float(value_a), float(value_b), int(len(per_a)),
                      p_value(np.asarray(per_a, dtype=np.float64), np.asarray(per_b, dtype=np.float64), test))
