"""Two results of the same task side by side, setting by setting, with paired significance.

Used by ``xbench compare`` (and by regression checks): each setting's mAP difference is tested on
the paired per-query AP, the aggregates on the pooled per-query values of their settings, and the
p-values are Holm-corrected over everything tested.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import UsageError, XbenchError
from .results import read_per_query, read_result
from .significance import KEY, holm, p_value


def load(path: Path, task: str | None = None) -> list[tuple[Path, dict[str, Any], pd.DataFrame]]:
    """(json path, result, per-query) for a result file, or for every result in a folder."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if not p.name.startswith("."))
        if task:
            files = [p for p in files if p.stem == task]
    elif path.is_file():
        files = [path]
    else:
        raise UsageError(f"{path}: no such result file or folder")
    loaded = []
    for file in files:
        result = read_result(file)
        loaded.append((file, result, read_per_query(file, result)))
    if not loaded:
        raise UsageError(f"{path}: no result files" + (f" for task {task}" if task else ""))
    return loaded


def comparable(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """Why two results cannot be compared, or None."""
    if a["task"] != b["task"]:
        return f"different tasks ({a['task']} vs {b['task']})"
    if a["data"]["checksums"] != b["data"]["checksums"]:
        return "different data checksums"
    if a["candidate_text"] != b["candidate_text"]:
        return f"different candidate text ({a['candidate_text']} vs {b['candidate_text']})"
    return None


def compare_task(a: dict[str, Any], pa: pd.DataFrame, b: dict[str, Any], pb: pd.DataFrame, test: str = "student") -> list[dict[str, Any]]:
    """Rows for the aggregates and every setting present in both, with raw and Holm p-values."""
    reason = comparable(a, b)
    if reason:
        raise XbenchError(f"cannot compare {a['task']} results: {reason}")
    joined = pa[KEY + ["ap", "rank_distance"]].merge(pb[KEY + ["ap", "rank_distance"]], on=KEY, suffixes=("_a", "_b"))
    rows: list[dict[str, Any]] = []
    for kind in ("mono", "cross", "multi"):
        part = joined[joined.kind == kind]
        if len(part):
            rows.append(_row(kind, "", "", a["scores"][kind], b["scores"][kind], part.ap_a, part.ap_b, test))
    multi = joined[joined.kind == "multi"]
    if len(multi):
        rows.append(_row("rank_distance", "", "", a["scores"]["rank_distance"], b["scores"]["rank_distance"],
                         multi.rank_distance_a, multi.rank_distance_b, test))
    settings_b = {(s["kind"], s["query_lang"], s["corpus_lang"]): s for s in b["settings"]}
    groups = dict(iter(joined.groupby(["kind", "query_lang", "corpus_lang"], sort=False)))
    for s in a["settings"]:
        key = (s["kind"], s["query_lang"], s["corpus_lang"])
        if key in settings_b and key in groups:
            part = groups[key]
            rows.append(_row(*key, s["map"], settings_b[key]["map"], part.ap_a, part.ap_b, test))
    for row, adjusted in zip(rows, holm([r["p"] for r in rows])):
        row["p_holm"] = float(adjusted)
    return rows


def _row(kind, query_lang, corpus_lang, value_a, value_b, per_a, per_b, test) -> dict[str, Any]:
    return {
        "kind": kind,
        "query_lang": query_lang,
        "corpus_lang": corpus_lang,
        "a": float(value_a),
        "b": float(value_b),
        "delta": float(value_b) - float(value_a),
        "n": int(len(per_a)),
        "p": p_value(np.asarray(per_a, dtype=np.float64), np.asarray(per_b, dtype=np.float64), test),
    }
