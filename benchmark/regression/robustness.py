"""The robustness report: each perturbed run beside the clean run whose queries it perturbs.

A folder written by ``xbench run --perturb`` (or ``--suite robustness``) holds the clean
``<task>.json`` and, per perturbation, ``<task>~<perturbation>.json``: the same model, data and
settings, only the queries perturbed. Each perturbed result is paired with the clean result of its
task in the same folder, refused (exit 2) when the two differ in anything but the queries (model,
task version, data, languages, sample, candidate text), and compared on AP query by query, paired
by (setting, query id):

- per scope of the task (a setting kind: mono, cross, multi; a pivot task's all, directions and
  language groups): clean and perturbed mAP, each the macro mean over the scope's settings as the
  headline scores are, tested on the pooled per-query AP;
- per setting kind and query language: the same over that kind's settings whose queries are in
  that language.

The drop is clean - perturbed (positive: the perturbation hurts), the relative drop is drop / clean.
Each row's p-value (the paired test ``xbench compare`` uses) is Holm-corrected over every row of
the report, across folders, tasks and perturbations, as ``xbench check`` corrects over what it
tests. Each row also says how many of its queries the perturbation changed (the perturbed result's
record): one that changes none (romanize on a Latin-script language) leaves every AP as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from benchmark import __version__
from benchmark.engine.settings import Setting
from benchmark.errors import UsageError
from benchmark.metrics.aggregate import aggregate_scopes, kinds_of
from benchmark.results import TaskResult
from .compare import load
from .significance import holm, p_value, paired_frame

MODEL_FIRST = ("name", "fingerprint", "revision", "weights_sha256")  # named first when model records differ


@dataclass
class Row:
    """One scope (``query_lang`` None) or one kind and query language of one perturbed result:
    clean and perturbed mAP over ``n`` paired per-query APs, and how many of the queries of the
    row's languages the perturbation changed."""

    folder: str
    model: str
    task: str
    perturbation: str
    scope: str
    query_lang: str | None
    clean: float
    perturbed: float
    n: int
    p: float
    test: str
    changed: int
    queries: int
    p_holm: float = 1.0

    @property
    def drop(self) -> float:
        return self.clean - self.perturbed

    @property
    def relative_drop(self) -> float | None:
        return self.drop / self.clean if self.clean else None

    @property
    def changed_share(self) -> float | None:
        return self.changed / self.queries if self.queries else None

    def to_dict(self) -> dict[str, Any]:
        return {"folder": self.folder, "model": self.model, "task": self.task, "perturbation": self.perturbation, "scope": self.scope,
                "query_lang": self.query_lang, "clean_map": self.clean, "perturbed_map": self.perturbed, "drop": self.drop,
                "relative_drop": self.relative_drop, "n": self.n, "test": self.test, "p": self.p, "p_holm": self.p_holm,
                "changed": self.changed, "queries": self.queries, "changed_share": self.changed_share}


@dataclass
class Pair:
    """A perturbed result and the clean result of the same run."""

    clean: TaskResult
    perturbed: TaskResult


@dataclass
class Report:
    test: str
    pairs: list[Pair] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        pairs = [{"clean": str(p.clean.path), "perturbed": str(p.perturbed.path), "model": p.clean.model.name, "task": p.clean.task,
                  "task_version": p.clean.task_version, "perturbation": p.perturbed.perturbation} for p in self.pairs]
        return {"xbench_version": __version__, "metric": "map", "test": self.test, "correction": "holm", "pairs": pairs,
                "rows": [r.to_dict() for r in self.rows]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def pairing_problem(clean: TaskResult, perturbed: TaskResult) -> str | None:
    """Why ``perturbed`` is not ``clean``'s run with its queries perturbed, or None."""
    if (clean.task, clean.task_version) != (perturbed.task, perturbed.task_version):
        return f"different tasks ({clean.task} {clean.task_version} vs {perturbed.task} {perturbed.task_version})"
    a, b = clean.model.identity, perturbed.model.identity
    fields = [*MODEL_FIRST, *sorted(set(a) | set(b) - set(MODEL_FIRST))]
    differing = [k for k in fields if a.get(k) != b.get(k)]
    if differing:
        return f"different models (model.{differing[0]}: {str(a.get(differing[0]))[:40]} vs {str(b.get(differing[0]))[:40]})"
    checksums_a, checksums_b = clean.data.checksums, perturbed.data.checksums
    files = sorted(f for f in set(checksums_a) | set(checksums_b) if checksums_a.get(f) != checksums_b.get(f))
    if files:
        return f"different data (checksum of {files[0]})"
    if clean.languages != perturbed.languages:
        return f"different languages ({','.join(clean.languages)} vs {','.join(perturbed.languages)})"
    if clean.sample != perturbed.sample:
        return f"different query samples ({clean.sample} vs {perturbed.sample})"
    if clean.candidate_text != perturbed.candidate_text:
        return f"different candidate text ({clean.candidate_text} vs {perturbed.candidate_text})"
    if [s.setting for s in clean.settings] != [s.setting for s in perturbed.settings]:
        return "different settings"
    return None


def folder_pairs(folder: Path) -> list[Pair]:
    """Every perturbed result of ``folder`` with the clean result of its task there; a perturbed
    result without one, or one that is not the clean run perturbed, is refused (UsageError)."""
    results = load(folder)
    by_key: dict[str, TaskResult] = {}
    for result in results:
        if result.key in by_key:
            raise UsageError(f"{result.path}: a second result {result.key} in {folder} (also {by_key[result.key].path})")
        by_key[result.key] = result
    perturbed = [r for r in results if r.perturbation]
    if not perturbed:
        raise UsageError(f"{folder}: no perturbed result (<task>~<perturbation>.json, written by xbench run --perturb or --suite)")
    pairs = []
    for result in perturbed:
        clean = by_key.get(result.task)
        if clean is None:
            raise UsageError(f"{result.path}: no clean result {Path(folder) / (result.task + '.json')} to pair it with")
        problem = pairing_problem(clean, result)
        if problem:
            raise UsageError(f"cannot pair {result.path} with {clean.path}: {problem}")
        pairs.append(Pair(clean, result))
    return pairs


def paired_ap(pair: Pair) -> pd.DataFrame:
    """Per (setting, query id): the clean AP (``ap_a``) and the perturbed AP (``ap_b``). Both runs
    score the same queries of the same settings; tables that do not are refused."""
    joined, unmatched = paired_frame(pair.clean.per_query, pair.perturbed.per_query, ("ap",))
    if len(unmatched) or len(joined) != len(pair.clean.per_query):
        raise UsageError(f"cannot pair {pair.perturbed.path} with {pair.clean.path}: their per-query tables hold different queries")
    return joined


def pair_rows(pair: Pair, test: str) -> list[Row]:
    """The rows of one pair (p-values not yet corrected): the task's scopes, then each kind's
    query languages (the task's languages in order, then a pivot)."""
    joined = paired_ap(pair)
    groups = {Setting(*key): part for key, part in joined.groupby(list(Setting.FIELDS), sort=False)}
    clean, record = pair.clean, pair.perturbed.perturbation
    settings = [s.setting for s in clean.settings if s.setting in groups]
    kinds = kinds_of(k.fields() for k in settings)

    def row(scope: str, query_lang: str | None, keys: list[Setting]) -> Row:
        parts = [groups[k] for k in keys]
        pooled = pd.concat(parts)
        langs = {k.query_lang for k in keys}
        return Row(str(clean.path.parent) if clean.path else "", clean.model.name, clean.task, record["key"], scope, query_lang,
                   float(np.mean([p.ap_a.mean() for p in parts])), float(np.mean([p.ap_b.mean() for p in parts])), len(pooled),
                   p_value(pooled.ap_a.to_numpy(np.float64), pooled.ap_b.to_numpy(np.float64), test), test,
                   sum(record["changed"].get(lang, 0) for lang in langs), sum(record["queries"].get(lang, 0) for lang in langs))

    rows = []
    for scope, member in aggregate_scopes(kinds, clean.pivot, clean.groups):
        keys = [k for k in settings if member(k.fields())]
        if keys:
            rows.append(row(scope, None, keys))
    query_langs = list(dict.fromkeys([*(lang for lang in clean.languages), *(k.query_lang for k in settings)]))
    for kind in kinds:
        for lang in query_langs:
            keys = [k for k in settings if k.kind == kind and k.query_lang == lang]
            if keys:
                rows.append(row(kind, lang, keys))
    return rows


def robustness_report(folders: Sequence[Path], test: str = "student") -> Report:
    """Every perturbed result in ``folders`` against its clean result, Holm-corrected over all rows."""
    report = Report(test)
    for folder in folders:
        pairs = folder_pairs(Path(folder))
        report.pairs += pairs
        for pair in pairs:
            report.rows += pair_rows(pair, test)
    for row, adjusted in zip(report.rows, holm([r.p for r in report.rows])):
        row.p_holm = float(adjusted)
    return report
