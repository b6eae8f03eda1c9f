"""Is a result what xbench produced on the canonical data? The leaderboard's gatekeeper.

Each check recomputes rather than trusts: aggregates from the per-setting values, per-setting
values from the per-query table (whose SHA-256 the JSON pins), the set of settings from the task
definition, the data checksums from the definition, and (when the canonical data is at hand) the
query ids of every setting from the data itself. The first failure is raised as one line.
"""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.engine.datafiles import DataUnavailable
from benchmark.engine.settings import protocol_settings
from benchmark.engine.task import load_task
from benchmark.engine.taskdef import TaskDefinition, get_task
from benchmark.errors import XbenchError
from benchmark.metrics.aggregate import headline_scores
from benchmark.results.files import read_per_query, read_result, setting_rows

TOLERANCE = 1e-9


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def validate_result(path: Path, data_dir: Path | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """Check one ``<task>.json`` (and its per-query table); return both or raise XbenchError."""
    result = read_result(path)
    where = str(path)

    def fail(message: str) -> None:
        raise XbenchError(f"{where}: {message}")

    try:
        definition = get_task(str(result.get("task")))
    except XbenchError:
        fail(f"unknown task {result.get('task')!r}")
    model = result.get("model") or {}
    if not model.get("name") or not (model.get("fingerprint") or model.get("revision")) or not model.get("dimension"):
        fail("model identity incomplete (name, fingerprint or revision, dimension)")
    if tuple(result.get("languages", ())) != definition.languages or not result.get("complete"):
        fail(f"not a run of the full task (languages {result.get('languages')})")
    if result.get("candidate_text") != definition.candidate_text:
        fail(f"candidate_text {result.get('candidate_text')!r}, the leaderboard uses {definition.candidate_text!r}")
    data = result.get("data") or {}
    if not data.get("official") or data.get("modified_files"):
        fail("made with modified data (unofficial)")
    if data.get("checksums") != dict(definition.files):
        differing = sorted(set(definition.files.items()) ^ set((data.get("checksums") or {}).items()))
        fail(f"data checksums differ from the task's canonical ones ({differing[0][0] if differing else '?'})")

    settings = result.get("settings") or []
    keys = [(s.get("kind"), s.get("query_lang"), s.get("corpus_lang")) for s in settings]
    if len(keys) != len(set(keys)):
        fail("a setting appears twice")
    expected = {astuple(s) for s in protocol_settings(definition.settings, definition.languages)}
    missing = expected - set(keys)
    if missing:
        kind, q, c = sorted(missing)[0]
        fail(f"{len(missing)} setting(s) missing, e.g. {kind} {q}->{c}")
    extra = set(keys) - expected
    if extra:
        fail(f"unexpected setting {sorted(extra)[0]}")

    canonical = _canonical_query_ids(definition, data_dir)
    if canonical is not None:  # before reading the per-query table: its size is then the canonical one
        for s in settings:
            wanted = len(canonical.get((s["kind"], s["query_lang"], s["corpus_lang"]), ()))
            if s["n_queries"] != wanted:
                fail(f"setting {s['kind']} {s['query_lang']}->{s['corpus_lang']}: n_queries {s['n_queries']}, the canonical data has {wanted} queries")
    per_query = read_per_query(path, result)
    check_recomputes(result, per_query, where, definition.cutoff_metrics)
    if canonical is not None:
        for s in settings:
            if set(setting_rows(per_query, s).query_id) != canonical.get((s["kind"], s["query_lang"], s["corpus_lang"])):
                fail(f"setting {s['kind']} {s['query_lang']}->{s['corpus_lang']}: query ids differ from the canonical data")
    return result, per_query


def _canonical_query_ids(definition: TaskDefinition, data_dir: Path | None) -> dict[tuple[str, str, str], set[str]] | None:
    """With the canonical data at hand, the query ids of every setting of the protocol; None
    without a local copy (the data checksums still tie the result to the canonical data)."""
    try:
        task = load_task(definition, data_dir, download=False, check=False)
    except DataUnavailable:
        return None
    return {astuple(plan.setting): {task.index.query_ids[r] for r in plan.query_rows} for plan in task.plans}


def check_recomputes(result: dict[str, Any], per_query: pd.DataFrame, where: str, cutoffs: tuple[str, ...]) -> None:
    """Every number a result states must follow from the one below it: each setting's mAP, cutoff
    metrics and rank distance from its per-query rows, the headline scores from the settings. What
    ``submit`` and ``verify`` both need before they trust a file's aggregates."""

    def fail(message: str) -> None:
        raise XbenchError(f"{where}: {message}")

    settings = result["settings"]
    for s in settings:
        label = f"setting {s['kind']} {s['query_lang']}->{s['corpus_lang']}"
        rows = setting_rows(per_query, s)
        if not isinstance(s.get("n_queries"), int) or s["n_queries"] <= 0 or len(rows) != s["n_queries"]:
            fail(f"{label}: n_queries {s.get('n_queries')} but {len(rows)} per-query rows")
        if rows.query_id.duplicated().any():
            fail(f"{label}: a query appears twice")
        for name in ("map", *cutoffs):
            value = s.get(name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                fail(f"{label}: {name} {value!r} out of range [0, 1]")
        ap = rows.ap.to_numpy(np.float64)
        if not np.all((ap >= 0) & (ap <= 1)):
            fail(f"{label}: per-query AP out of range [0, 1]")
        if not _close(float(ap.mean()), s["map"]):
            fail(f"{label}: map {s['map']} does not recompute from the per-query AP ({ap.mean()})")
        for name in cutoffs:
            if name not in rows or not _close(float(rows[name].mean()), s[name]):
                fail(f"{label}: {name} does not recompute from the per-query values")
        if s["kind"] == "multi":
            distance = rows.rank_distance.to_numpy(np.float64)
            if not isinstance(s.get("rank_distance"), (int, float)) or s["rank_distance"] < 0 or np.any(distance < 0):
                fail(f"{label}: rank_distance out of range")
            if not _close(float(distance.mean()), s["rank_distance"]):
                fail(f"{label}: rank_distance does not recompute from the per-query values")
    recomputed = headline_scores(settings)
    for name, value in recomputed.items():
        stated = (result.get("scores") or {}).get(name)
        if value is None or not isinstance(stated, (int, float)) or not _close(value, stated):
            fail(f"scores.{name} does not recompute from the settings (stated {stated!r}, recomputed {value})")
