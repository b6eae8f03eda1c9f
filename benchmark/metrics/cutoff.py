"""Cutoff metrics (nDCG@k, Recall@k, MRR@k, mAP@k, ...) computed by ranx on the top of the same
ranking that AP uses, ties broken the same pessimistic way: the top k comes from
:func:`benchmark.metrics.ranking.rank_block`, in the same pass as the ranks (engine/scoring.py).

ranx's ``evaluate`` takes its qrels and run as arrays; handing it (n, k, 2) arrays of
[candidate column, score] directly skips building string-keyed dictionaries for every one of the
hundreds of thousands of (setting, query) pairs.
"""

from __future__ import annotations

import numpy as np


def depth_of(metrics: tuple[str, ...]) -> int:
    return max((int(m.split("@")[1]) for m in metrics), default=0)


def run_rows(cols: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ranx run rows: (n, k, 2) of [column, score], in the given (ranked) order."""
    return np.stack([cols, scores], axis=2).astype(np.float64)


def qrels_rows(relevant: np.ndarray) -> np.ndarray:
    """ranx qrels rows: (n, R, 2) of [column, 1]; padding gets relevance 0, which ranx drops."""
    return np.stack([relevant, relevant >= 0], axis=2).astype(np.float64)


def stack_padded(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate (n_i, w_i, 2) arrays along n, padding w with id -1 / value 0 (never relevant)."""
    width = max(p.shape[1] for p in parts)
    out = np.zeros((sum(len(p) for p in parts), width, 2), dtype=np.float64)
    out[:, :, 0] = -1.0
    row = 0
    for p in parts:
        out[row : row + len(p), : p.shape[1]] = p
        row += len(p)
    return out


def ranx_metrics(qrels: np.ndarray, run: np.ndarray, metrics: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per-query values of each ranx metric name in ``metrics`` (e.g. ``ndcg@10``)."""
    if not metrics or len(qrels) == 0:
        return {m: np.zeros(len(qrels)) for m in metrics}
    from ranx import evaluate  # imported here: numba start-up is paid only when cutoff metrics are asked for

    # ranx (0.3.21) fails on one metric with a cutoff and per-query values (it looks the answer up
    # by the family, KeyError 'ndcg'); named twice, the metric comes back keyed by its own name
    names = list(metrics) if len(metrics) > 1 else [metrics[0], metrics[0]]
    values = evaluate(qrels, run, names, return_mean=False, threads=0, save_results_in_run=False)
    return {m: np.asarray(values[m], dtype=np.float64) for m in metrics}
