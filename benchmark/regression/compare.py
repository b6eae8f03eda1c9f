"""Two results of the same task side by side, setting by setting, with paired significance.

Used by ``xbench compare`` and ``xbench check``. Values are recomputed from the per-query rows
both results share (for two full runs: every query, so they equal the stated mAPs), which lets a
sampled or language-subset run be compared with a full baseline like for like. Each setting's
difference is tested on its paired per-query AP, each aggregate on the pooled per-query values of
its settings, and the p-values are Holm-corrected over everything tested.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.errors import UsageError, XbenchError
from benchmark.results.files import PER_QUERY_SUFFIX, read_json, read_per_query, read_result
from .significance import KEY, holm, p_value

SETTING = ["kind", "query_lang", "corpus_lang"]


def load(path: Path, task: str | None = None) -> list[tuple[Path, dict[str, Any], pd.DataFrame]]:
    """(json path, result, per-query) for a result file, or for every result in a folder (the JSON
    files that claim to be results, see :func:`claims_to_be_result`); each validated on load."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if not p.name.startswith(".") and (not task or p.stem == task))
        files = [p for p in files if claims_to_be_result(p)]
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


def incomparable(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """Why result ``b`` cannot be compared with ``a``, or None. ``b`` may cover fewer languages
    or queries than ``a`` (a fast check against a full baseline), never other data or settings."""
    if a["task"] != b["task"]:
        return f"different tasks ({a['task']} vs {b['task']})"
    if a["candidate_text"] != b["candidate_text"]:
        return f"different candidate text ({a['candidate_text']} vs {b['candidate_text']})"
    absent = [lang for lang in b["languages"] if lang not in a["languages"]]
    if absent:
        return f"language(s) {', '.join(absent)} of {b['task']} missing from the baseline"
    for name, digest in b["data"]["checksums"].items():
        if a["data"]["checksums"].get(name) != digest:
            return f"different data checksums ({name})"
    settings_a = {(s["kind"], s["query_lang"], s["corpus_lang"]) for s in a["settings"]}
    missing = [s for s in b["settings"] if (s["kind"], s["query_lang"], s["corpus_lang"]) not in settings_a]
    if missing:
        return f"{len(missing)} setting(s) of {b['task']} missing from the baseline, e.g. {missing[0]['kind']} {missing[0]['query_lang']}->{missing[0]['corpus_lang']}"
    return None


def compare_task(a: dict[str, Any], pa: pd.DataFrame, b: dict[str, Any], pb: pd.DataFrame, test: str = "student") -> list[dict[str, Any]]:
    """Rows for the aggregates and every setting of ``b``, with raw and Holm p-values."""
    reason = incomparable(a, b)
    if reason:
        raise UsageError(f"cannot compare {a['task']} results: {reason}")
    joined = pa[KEY + ["ap", "rank_distance"]].merge(pb[KEY + ["ap", "rank_distance"]], on=KEY, suffixes=("_a", "_b"), validate="one_to_one")
    if len(joined) < len(pb):  # a query of b the baseline lacks: other data, not a sample of it
        unmatched = pb[KEY].merge(pa[KEY], on=KEY, how="left", indicator=True)
        unmatched = unmatched[unmatched["_merge"] == "left_only"]
        first = unmatched.iloc[0]
        raise UsageError(f"cannot compare {a['task']} results: {len(unmatched)} queries missing from the baseline, "
                         f"e.g. {first.query_id!r} in {first.kind} {first.query_lang}->{first.corpus_lang}")
    groups = {key: part for key, part in joined.groupby(SETTING, sort=False)}
    settings = [tuple(s[c] for c in SETTING) for s in b["settings"] if tuple(s[c] for c in SETTING) in groups]
    if sorted(a["languages"]) != sorted(b["languages"]):
        # a language subset has a smaller multilingual pool: its ranks there are not the baseline's
        settings = [k for k in settings if k[0] != "multi"]
    rows: list[dict[str, Any]] = []
    for kind in ("mono", "cross", "multi"):
        keys = [k for k in settings if k[0] == kind]
        if keys:
            means_a = [groups[k].ap_a.mean() for k in keys]
            means_b = [groups[k].ap_b.mean() for k in keys]
            pooled = pd.concat([groups[k] for k in keys])
            rows.append(_row(kind, "", "", np.mean(means_a), np.mean(means_b), pooled.ap_a, pooled.ap_b, test))
    multi = [k for k in settings if k[0] == "multi"]
    if multi:
        pooled = pd.concat([groups[k] for k in multi])
        rows.append(_row("rank_distance", "", "", np.mean([groups[k].rank_distance_a.mean() for k in multi]),
                         np.mean([groups[k].rank_distance_b.mean() for k in multi]), pooled.rank_distance_a, pooled.rank_distance_b, test))
    for key in settings:
        part = groups[key]
        rows.append(_row(*key, part.ap_a.mean(), part.ap_b.mean(), part.ap_a, part.ap_b, test))
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
