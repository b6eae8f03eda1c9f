"""The robustness gate of ``xbench check``: does a checkpoint lose more under a perturbation than
the baseline does?

For each query (setting and query id) the drop is clean AP - perturbed AP, taken within one run
(the clean and perturbed results of the baseline, then of the candidate: each pair must be one
run, :func:`~benchmark.regression.robustness.pairing_problem`). The candidate's drops are paired
with the baseline's over the queries both have and compared per scope of the task (setting kind;
a pivot task's all, directions, groups): the macro mean drop over the scope's settings, tested on
the pooled per-query drops. A perturbation that moves clean and perturbed AP alike leaves the
drop where it was; only a loss of robustness grows it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.engine.settings import Setting
from benchmark.errors import UsageError
from benchmark.metrics.aggregate import aggregate_scopes, kinds_of
from .compare import Comparison
from .robustness import Pair, paired_ap, pairing_problem
from .significance import KEY, p_value, paired_frame


def query_drops(pair: Pair) -> pd.DataFrame:
    """Per (setting, query id) of one run: ``drop`` = clean AP - perturbed AP."""
    problem = pairing_problem(pair.clean, pair.perturbed)
    if problem:
        raise UsageError(f"cannot pair {pair.perturbed.path or pair.perturbed.key} with {pair.clean.path or pair.clean.key}: {problem}")
    joined = paired_ap(pair)
    return joined[KEY].assign(drop=joined.ap_a - joined.ap_b)


def compare_drops(baseline: Pair, candidate: Pair, test: str = "student") -> list[Comparison]:
    """One row per scope: the baseline's drop (``a``) and the candidate's (``b``) under the
    perturbation, macro means over the scope's settings, with the paired test's raw p-value."""
    key = candidate.perturbed.key
    joined, unmatched = paired_frame(query_drops(baseline), query_drops(candidate), ("drop",))
    if len(unmatched):
        first = unmatched.iloc[0]
        raise UsageError(f"cannot compare {key} drops: {len(unmatched)} queries missing from the baseline, e.g. {first.query_id!r}")
    groups = {Setting(*k): part for k, part in joined.groupby(list(Setting.FIELDS), sort=False)}
    result = candidate.perturbed
    settings = [s.setting for s in result.settings if s.setting in groups]
    if sorted(baseline.clean.languages) != sorted(result.languages):  # a smaller pool ranks otherwise: as compare_task
        settings = [k for k in settings if k.kind != "multi"]
    perturbation = result.perturbation["key"]
    rows = []
    for scope, member in aggregate_scopes(kinds_of(k.fields() for k in settings), result.pivot, result.groups):
        parts = [groups[k] for k in settings if member(k.fields())]
        if not parts:
            continue
        pooled = pd.concat(parts)
        a, b = pooled.drop_a.to_numpy(np.float64), pooled.drop_b.to_numpy(np.float64)
        rows.append(Comparison(scope, None, "map", float(np.mean([p.drop_a.mean() for p in parts])), float(np.mean([p.drop_b.mean() for p in parts])),
                               len(pooled), p_value(a, b, test), test, perturbation=perturbation))
    return rows
