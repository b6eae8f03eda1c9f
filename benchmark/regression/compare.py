"""Two results of the same task side by side, setting by setting, with paired significance.

Used by ``xbench compare`` and ``xbench check``. Values are recomputed from the per-query rows
both results share (for two full runs: every query, so they equal the stated values), which lets a
sampled or language-subset run be compared with a full baseline like for like. Each compared
metric (accuracy and mAP where the task has them, and the rank distance; or those asked for) is
tested per setting on its paired per-query values and per aggregate on the pooled per-query
values of its settings, by the test its spec calls for (McNemar's exact test for accuracy's 0/1
outcomes), and the p-values are Holm-corrected over everything tested. The bias measures are
compared by their aggregates over the multilingual pool; a query a partial measure says nothing
about (own-language first of a question answered in one language) drops out of its pairs. The
descriptive ones (own-language and English share, own-language first: no direction is better)
form a Holm family of their own, so that showing them never weakens the tests a check gates on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from benchmark.engine.settings import Setting
from benchmark.errors import UsageError, XbenchError
from benchmark.metrics import MetricSpec, metric_spec
from benchmark.metrics.aggregate import BIAS_METRICS, aggregate_scopes, kinds_of
from benchmark.results import TaskResult
from benchmark.results.io import read_json
from benchmark.results.schema import PER_QUERY_SUFFIX
from .significance import holm, paired_frame, p_value, chosen_test


@dataclass
class Comparison:
    """One compared quantity: a setting's value of a metric (mAP, accuracy...), or an aggregate
    (the metric's Mono, Cross, Multi macro mean, or a bias metric such as the rank distance: then
    ``setting`` is None and ``kind`` names the aggregate). ``metric`` names the spec that says
    which way is better; ``test`` the paired test that gave ``p``."""

    kind: str
    setting: Setting | None
    metric: str
    a: float
    b: float
    n: int
    p: float
    test: str
    p_holm: float = 1.0
    status: str | None = None  # set by a regression check
    perturbation: str | None = None  # set: ``a`` and ``b`` are the metric's drop (clean - perturbed) under it

    @property
    def delta(self) -> float:
        return self.b - self.a

    @property
    def spec(self) -> MetricSpec:
        """What judges the row: the metric's spec, or for a drop under a perturbation the drop's
        (the same unit, lower is better)."""
        spec = metric_spec(self.metric)
        return replace(spec, name=f"{spec.name} drop", higher_is_better=not spec.higher_is_better) if self.perturbation else spec

    @property
    def label(self) -> str:
        if self.perturbation:
            return f"{self.kind} drop under {self.perturbation}"
        return self.setting.label if self.setting else f"{self.kind} (aggregate)"

    def to_dict(self) -> dict[str, Any]:
        """The row as ``--json`` prints it."""
        row = {"kind": self.kind, "query_lang": self.setting.query_lang if self.setting else "",
               "corpus_lang": self.setting.corpus_lang if self.setting else "", "metric": self.metric, "a": self.a, "b": self.b, "delta": self.delta,
               "n": self.n, "test": self.test, "p": self.p, "p_holm": self.p_holm}
        row = row if self.perturbation is None else dict(row, perturbation=self.perturbation)
        return row if self.status is None else dict(row, status=self.status)


def load(path: Path, task: str | None = None) -> list[TaskResult]:
    """The result in a file, or every result in a folder (the JSON files that claim to be
    results, see :func:`claims_to_be_result`); each validated on load. ``task`` keeps a task's
    results: the clean ``<task>.json`` and its perturbed runs ``<task>~<perturbation>.json``."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if not p.name.startswith(".") and (not task or p.stem.partition("~")[0] == task))
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
    if a.key != b.key:  # a perturbed run never stands in for the clean one, nor for another perturbation
        return f"different results ({a.key} vs {b.key})"
    reason = perturbation_mismatch(a.perturbation, b.perturbation)
    if reason:
        return reason
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


def perturbation_mismatch(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> str | None:
    """Why two runs under the same perturbation key did not see the same noisy queries, or None:
    another version of the perturbation, or other versions of a library its output depends on."""
    if not a or not b:
        return None
    if a["version"] != b["version"]:
        return f"perturbation {a['key']} is version {a['version']} in one and {b['version']} in the other"
    libraries_a, libraries_b = a.get("libraries") or {}, b.get("libraries") or {}
    for name in sorted(set(libraries_a) | set(libraries_b)):
        if libraries_a.get(name) != libraries_b.get(name):
            return f"perturbation {a['key']} was made with {name} {libraries_a.get(name)} in one and {libraries_b.get(name)} in the other"
    return None


# compared unless --metric says otherwise, when both per-query tables hold them
DEFAULT_METRICS = ("accuracy", "map", *BIAS_METRICS)


def compared_metrics(a: TaskResult, b: TaskResult, requested: Sequence[str] | None = None) -> list[MetricSpec]:
    """The metrics compared between ``a`` and ``b``: those ``requested`` (default
    :data:`DEFAULT_METRICS`) whose per-query column the task's results hold. A metric asked for
    that only one of them holds cannot be compared like for like: a usage error naming it; a
    default one that only one holds (``--metrics accuracy`` on one LAReQA run) is left out."""
    columns_a, columns_b = set(a.per_query.columns), set(b.per_query.columns)
    specs = []
    for spec in (metric_spec(name) for name in (requested or DEFAULT_METRICS)):
        if (spec.column in columns_a) != (spec.column in columns_b) and not requested:
            continue
        if (spec.column in columns_a) != (spec.column in columns_b):
            which = "baseline (A)" if spec.column in columns_a else "candidate (B)"
            raise UsageError(f"cannot compare {a.key} results on {spec.name}: only the {which} computed it")
        if spec.column in columns_a:
            specs.append(spec)
    return specs


def compare_task(a: TaskResult, b: TaskResult, test: str = "student", metrics: Sequence[str] | None = None) -> list[Comparison]:
    """The aggregates and every setting of ``b`` compared with ``a`` on each compared metric
    (:func:`compared_metrics`), with raw and Holm p-values. Each metric is tested by the test its
    spec calls for (:func:`~benchmark.regression.significance.chosen_test`); ``test`` is the one
    for continuous metrics. Rows: per metric, the result's aggregate scopes (Mono, Cross, Multi;
    a pivot task's all, directions and language groups); then the bias metrics' aggregates; then
    per setting, one row per metric."""
    reason = incomparable(a, b)
    if reason:
        raise UsageError(f"cannot compare {a.key} results: {reason}")
    specs = compared_metrics(a, b, metrics)
    bias = [spec for spec in specs if spec.name in BIAS_METRICS]
    headline = [spec for spec in specs if spec.name not in BIAS_METRICS]
    joined, unmatched = paired_frame(a.per_query, b.per_query, tuple(spec.column for spec in specs))
    if len(unmatched):  # a query of b the baseline lacks: other data, not a sample of it
        first = unmatched.iloc[0]
        raise UsageError(f"cannot compare {a.key} results: {len(unmatched)} queries missing from the baseline, "
                         f"e.g. {first.query_id!r} in {Setting.of(first).label}")
    groups = {Setting(*key): part for key, part in joined.groupby(list(Setting.FIELDS), sort=False)}
    settings = [s.setting for s in b.settings if s.setting in groups]
    if sorted(a.languages) != sorted(b.languages):
        # a language subset has a smaller multilingual pool: its ranks there are not the baseline's
        settings = [k for k in settings if k.kind != "multi"]
    rows: list[Comparison] = []
    scopes = aggregate_scopes(kinds_of(k.fields() for k in settings), b.pivot, b.groups)
    for spec in headline:
        for scope, member in scopes:  # the result's aggregates: kinds, or directions, and language groups
            keys = [k for k in settings if member(k.fields())]
            if keys:
                rows.append(_pooled(scope, spec, [groups[k] for k in keys], chosen_test(spec, test)))
    for spec in bias:  # each bias metric over the settings it applies to, named by itself
        parts = [groups[k] for k in settings if spec.applies_to(k.kind)]
        parts = [p[p[f"{spec.column}_a"].notna() & p[f"{spec.column}_b"].notna()] for p in parts]  # a partial measure's pairs
        parts = [p for p in parts if len(p)]
        if parts:
            rows.append(_pooled(spec.name, spec, parts, chosen_test(spec, test)))
    for key in settings:
        part = groups[key]
        for spec in headline:
            values_a, values_b = part[f"{spec.column}_a"], part[f"{spec.column}_b"]
            rows.append(_compared(key.kind, key, spec.name, values_a.mean(), values_b.mean(), values_a, values_b, chosen_test(spec, test)))
    return holm_adjusted(rows)


def holm_adjusted(rows: list[Comparison]) -> list[Comparison]:
    """Set each row's ``p_holm``: Holm's correction over the gated rows as one family and the
    descriptive measures' rows as another (they never gate, so they must not weaken the gate)."""
    for judged in (True, False):
        family = [r for r in rows if metric_spec(r.metric).judged == judged]
        for row, adjusted in zip(family, holm([r.p for r in family])):
            row.p_holm = float(adjusted)
    return rows


def measured(report: dict[str, list[Comparison]], requested: Sequence[str]) -> dict[str, list[Comparison]]:
    """The tasks of ``report`` that have rows, once every ``requested`` metric was measured by
    at least one of them: a metric asked for that no compared result holds (``--metric
    accuracy`` on LAReQA alone) is a usage error naming it, not a silent pass."""
    for name in requested:
        if not any(r.metric == metric_spec(name).name for rows in report.values() for r in rows):
            raise UsageError(f"--metric {name}: no compared result of {', '.join(report) or 'any task'} has it")
    return {task: rows for task, rows in report.items() if rows}


def _pooled(kind: str, spec: MetricSpec, parts: list[pd.DataFrame], test: str) -> Comparison:
    """An aggregate: the macro mean over its settings, tested on their pooled per-query values."""
    pooled, column = pd.concat(parts), spec.column
    return _compared(kind, None, spec.name, np.mean([p[f"{column}_a"].mean() for p in parts]), np.mean([p[f"{column}_b"].mean() for p in parts]),
                     pooled[f"{column}_a"], pooled[f"{column}_b"], test)


def _compared(kind: str, setting: Setting | None, metric: str, value_a: float, value_b: float, per_a: Any, per_b: Any, test: str) -> Comparison:
    return Comparison(kind, setting, metric, float(value_a), float(value_b), int(len(per_a)),
                      p_value(np.asarray(per_a, dtype=np.float64), np.asarray(per_b, dtype=np.float64), test), test)
