"""Paired significance tests on per-query scores, and Holm's correction.

Two results are comparable query by query because every per-query row is keyed by (kind, query
language, corpus language, query id); :func:`paired_frame` aligns them on that key.

Which test a metric gets is its spec's to say (:func:`chosen_test`). A continuous per-query value
(AP, nDCG@k...) gets the configured test: Student's paired t or Fisher's randomization. A binary
one (accuracy: a query's best relevant candidate ranks first or not) gets McNemar's exact test.
On 0/1 pairs the t-test and the randomization test are only approximations (the t-test's normal
theory is asymptotic, the randomization test samples), while McNemar's exact test is the standard
test for paired binary outcomes, such as the per-sentence hits of LASER/XTREME-style bitext
accuracy: it looks only at the discordant queries and computes its p-value exactly, with no
resampling.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from benchmark.errors import XbenchError
from benchmark.metrics import MetricSpec
from benchmark.results.schema import PER_QUERY_KEY_COLUMNS

KEY = [*PER_QUERY_KEY_COLUMNS]  # a setting's fields and the query id
TESTS = ("student", "fisher")  # the tests a user chooses between for continuous metrics
MCNEMAR = "mcnemar-exact"  # the test of every binary metric, whatever the choice


def paired_frame(a: pd.DataFrame, b: pd.DataFrame, metrics: Sequence[str], key: Sequence[str] = KEY) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of ``b`` that ``a`` also has, paired on ``key``, with ``metrics`` side by side
    (``ap_a``, ``ap_b``...); and the keys of the rows of ``b`` that ``a`` lacks. The one place
    two per-query tables are merged."""
    key = list(key)
    columns = key + list(metrics)
    joined = a[columns].merge(b[columns], on=key, suffixes=("_a", "_b"), validate="one_to_one")
    unmatched = b[key].merge(a[key], on=key, how="left", indicator=True)
    return joined, unmatched[unmatched["_merge"] == "left_only"]


def paired_scores(a: pd.DataFrame, b: pd.DataFrame, metric: str = "ap", key: Sequence[str] = KEY) -> tuple[np.ndarray, np.ndarray]:
    """The two columns ``metric`` paired on ``key`` (rows present in both)."""
    joined, _ = paired_frame(a, b, (metric,), key)
    return joined[f"{metric}_a"].to_numpy(np.float64), joined[f"{metric}_b"].to_numpy(np.float64)


def chosen_test(spec: MetricSpec, configured: str) -> str:
    """The paired test of ``spec``'s per-query values: McNemar's exact test for a binary outcome,
    else the ``configured`` one (``student`` or ``fisher``)."""
    return MCNEMAR if spec.outcome == "binary" else configured


def p_value(a: np.ndarray, b: np.ndarray, test: str = "student", n_permutations: int = 1000, seed: int = 42) -> float:
    """Two-sided p-value that the paired samples ``a`` and ``b`` share a mean.

    Identical samples give 1.0 (no evidence of a difference) rather than the NaN of a t-test with
    zero variance.
    """
    if test not in (*TESTS, MCNEMAR):
        raise ValueError(f"unknown test {test!r}; use one of {', '.join((*TESTS, MCNEMAR))}")
    if test == MCNEMAR:
        return mcnemar_exact_p_value(a, b)
    if len(a) == 0 or np.array_equal(a, b):
        return 1.0
    if test == "student":
        from ranx.statistical_tests import paired_student_t_test

        with warnings.catch_warnings():  # scipy's "precision loss" on nearly equal samples: one stderr line per test, the p-value is kept
            warnings.simplefilter("ignore", RuntimeWarning)
            value, _ = paired_student_t_test(a, b)
    else:
        value = randomization_p_value(a, b, n_permutations, seed)
    value = float(value)
    return 1.0 if np.isnan(value) else value


def mcnemar_exact_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """McNemar's exact test of paired 0/1 outcomes: two-sided exact binomial test on the
    discordant pairs. With ``n10`` queries right in ``a`` only and ``n01`` right in ``b`` only,
    under the null each discordant query is as likely to go either way, so
    p = min(1, 2 P[X <= min(n10, n01)]) with X ~ Binomial(n10 + n01, 1/2); 1.0 when no query is
    discordant. Concordant queries carry no information about the difference and do not count.

    scipy's ``binomtest`` (a dependency of ranx) computes the binomial tail: with p = 1/2 the
    distribution is symmetric and its two-sided p-value is exactly the doubled tail above.
    A value other than 0 or 1 is refused: the test would silently answer another question.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    for values in (a, b):
        if not np.isin(values, (0.0, 1.0)).all():
            bad = values[~np.isin(values, (0.0, 1.0))][0]
            raise XbenchError(f"McNemar's test needs per-query values of 0 or 1, got {float(bad)!r}")
    right_a_only = int(((a == 1.0) & (b == 0.0)).sum())
    right_b_only = int(((a == 0.0) & (b == 1.0)).sum())
    discordant = right_a_only + right_b_only
    if discordant == 0:
        return 1.0
    from scipy.stats import binomtest

    return min(1.0, float(binomtest(min(right_a_only, right_b_only), discordant, 0.5).pvalue))


def randomization_p_value(a: np.ndarray, b: np.ndarray, n_permutations: int = 1000, seed: int = 42, block: int = 64) -> float:
    """Fisher's paired randomization test (Smucker et al., CIKM '07), as ranx defines it: the share
    of random swaps of each pair's two values whose difference of means is at least the observed
    one in absolute value.

    Our own rather than ranx's ``fisher_randomization_test``: that one seeds numpy inside parallel
    compiled threads, so only one thread's draws are seeded and its p-value changes from run to
    run. Here one numpy generator draws every swap, and each mean is a numpy (pairwise) sum of
    the same values in the same order: the same inputs give the same p-value, bit for bit,
    whatever the thread count. Swaps are drawn ``block`` permutations at a time to bound memory.
    """
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    observed = abs(diff.mean())
    rng = np.random.default_rng(seed)
    at_least = 0
    for start in range(0, n_permutations, block):
        signs = rng.integers(0, 2, size=(min(block, n_permutations - start), len(diff)), dtype=np.int8) * 2 - 1
        at_least += int((np.abs((signs * diff).mean(axis=1)) >= observed).sum())
    return at_least / n_permutations


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (monotone, capped at 1), in the input order."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out
