"""The leaderboard's order: entries ranked by their overall score, with statistical ties marked.

One place decides the order and what a row says: :func:`board_rows` turns ranked entries into
flat records (rank, tie mark, p-value against the row above, every shown field), which every view
renders as it is.

Every entry has the ranked tasks (:data:`BOARD_TASKS`); Tatoeba (:data:`SHOWN_TASKS`) is shown when
an entry has it and never enters the order, the overall score or the tie tests. Ranking by it would
rank entries with and without a run on different evidence, and the board holds entries made before
Tatoeba existed: adding an entry's Tatoeba run must not move it (or any other) up or down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from benchmark.regression.significance import KEY, p_value, paired_scores
from benchmark.results import RecordedModel, TaskResult

BOARD_TASKS = ("xquad-r", "mlqa-r")  # every entry has them; the order is theirs
SHOWN_TASKS = ("tatoeba",)  # an entry may have them; shown, never ranked
TATOEBA = "tatoeba"
TATOEBA_SCOPES = ("all", "xtreme36", "under1000")  # the aggregates whose accuracy the board shows
TIE_ALPHA = 0.05
SCORE_NAMES = ("mono", "cross", "multi", "rank_distance")
# the bias measures of the multilingual pool: shown beside the rank distance, never ranked, and absent
# ("-") from submissions made before them
BIAS_NAMES = ("own_share", "english_share", "own_first", "rank_correlation")
OVERALL = ("mono", "cross", "multi")  # the overall score: the mean of these over every board task


@dataclass
class Entry:
    """One model on the board: its results per task and the per-query AP for tie tests."""

    key: str
    meta: dict[str, Any]
    results: dict[str, TaskResult]  # every BOARD_TASKS task, and those of SHOWN_TASKS it has
    verified: str | None = None  # date and sample of an `xbench verify` of exactly these files; None: self-reported
    perturbed: dict[str, TaskResult] = field(default_factory=dict)  # <task>~<perturbation> -> result: shown, never ranked

    @property
    def model(self) -> RecordedModel:
        return self.results[BOARD_TASKS[0]].model

    @property
    def overall(self) -> float:
        """Mean of the Mono, Cross and Multi mAP of every board task."""
        return float(np.mean([self.results[t].score(k) for t in BOARD_TASKS for k in OVERALL]))

    def paired_ap(self) -> pd.DataFrame:
        """Per-query AP of the ranked tasks only: a tie is judged on what the order is made of."""
        frames = [self.results[task].per_query.assign(task=task)[["task", *KEY, "ap"]] for task in BOARD_TASKS]
        return pd.concat(frames, ignore_index=True)


def rank(entries: list[Entry]) -> list[Entry]:
    """Best overall first; the key breaks ties so the order never depends on the file system."""
    return sorted(entries, key=lambda e: (-e.overall, e.key))


def tie_p_values(entries: list[Entry]) -> list[float | None]:
    """For each row, the paired t-test p-value of its per-query AP against the row above."""
    values: list[float | None] = [None]
    for above, below in zip(entries, entries[1:]):
        a, b = paired_scores(above.paired_ap(), below.paired_ap(), key=["task", *KEY])
        values.append(p_value(a, b, "student"))
    return values


def board_rows(entries: list[Entry]) -> list[dict[str, Any]]:
    """One flat record per model, in rank order; ``tied`` marks a row not significantly below the one above."""
    rows = []
    p_values = tie_p_values(entries)
    rank = 0
    for i, (entry, p) in enumerate(zip(entries, p_values)):
        tied = p is not None and p > TIE_ALPHA
        rank = rank if tied else i + 1
        rows.append({"rank": rank, "tied": tied, "p_vs_above": p, **row_fields(entry)})
    return rows


def row_fields(entry: Entry) -> dict[str, Any]:
    """Everything a board row says about one entry: the one place a new per-row field is computed."""
    model = entry.model
    row: dict[str, Any] = {
        "model": model.name,
        "key": entry.key,
        "dimension": model.dimension,
        "parameters": model.parameters,
    }
    for task in BOARD_TASKS:
        for k in (*SCORE_NAMES, *BIAS_NAMES):
            row[f"{task}.{k}"] = entry.results[task].score(k)
    row["overall"] = entry.overall
    tatoeba = entry.results.get(TATOEBA)
    for scope in TATOEBA_SCOPES:
        row[f"{TATOEBA}.{scope}"] = tatoeba.aggregate(scope, "accuracy") if tatoeba is not None else None
    row["date"] = entry.meta.get("submitted")
    row["xbench_version"] = entry.meta.get("xbench_version")
    row["command"] = entry.meta.get("command")
    row["verified"] = entry.verified
    return row
