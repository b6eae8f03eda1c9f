"""The leaderboard: validated submissions on disk, ranked, with statistical ties marked.

Layout of a board folder::

    submissions/<model>__<revision>/   submission.json + each task's result JSON and per-query table
    history/<model>__<revision>/<n>/   earlier submissions replaced with --replace (never deleted)
    README.md, index.html              views, rebuilt from submissions/ alone (benchmark.board_views)

A submission is validated in full before anything is written, assembled in a hidden folder inside
``submissions/`` and renamed into place, so a refused or interrupted submit leaves the board as it
was.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import XbenchError
from .fsutil import atomic_write_text, safe_name
from .results import PER_QUERY_SUFFIX, read_per_query, read_result
from .significance import KEY, p_value, paired_scores
from .validate import validate_result

BOARD_TASKS = ("xquad-r", "mlqa-r")
TIE_ALPHA = 0.05


def revision_of(model: dict[str, Any]) -> str:
    return str(model.get("revision") or model.get("weights_sha256") or model.get("fingerprint") or "unknown")


def submission_key(model: dict[str, Any]) -> str:
    return f"{safe_name(str(model['name']))}__{safe_name(revision_of(model), 12)}"


@dataclass
class Entry:
    """One model on the board: its results per task and the per-query AP for tie tests."""

    key: str
    meta: dict[str, Any]
    results: dict[str, dict[str, Any]]
    per_query: dict[str, pd.DataFrame] = field(repr=False, default_factory=dict)

    @property
    def model(self) -> dict[str, Any]:
        return self.results[BOARD_TASKS[0]]["model"]

    @property
    def overall(self) -> float:
        """Mean of the Mono, Cross and Multi mAP of every board task."""
        return float(np.mean([self.results[t]["scores"][k] for t in BOARD_TASKS for k in ("mono", "cross", "multi")]))

    def paired_ap(self) -> pd.DataFrame:
        frames = [df.assign(task=task)[["task", *KEY, "ap"]] for task, df in self.per_query.items()]
        return pd.concat(frames, ignore_index=True)


def validate_submission(result_dir: Path, data_dir: Path | None = None) -> tuple[dict[str, dict], dict[str, pd.DataFrame]]:
    results, frames = {}, {}
    for task in BOARD_TASKS:
        path = Path(result_dir) / f"{task}.json"
        if not path.is_file():
            raise XbenchError(f"{result_dir}: no {task}.json (a submission covers {', '.join(BOARD_TASKS)})")
        results[task], frames[task] = validate_result(path, data_dir)
    fingerprints = {r["model"].get("fingerprint") for r in results.values()}
    if len(fingerprints) != 1:
        raise XbenchError(f"{result_dir}: the task results come from different models")
    return results, frames


def submit(result_dir: Path, board: Path, replace: bool = False, data_dir: Path | None = None) -> Path:
    """Validate ``result_dir`` and add it to ``board``; returns the submission folder."""
    results, _ = validate_submission(result_dir, data_dir)
    model = results[BOARD_TASKS[0]]["model"]
    key = submission_key(model)
    submissions = Path(board) / "submissions"
    target = submissions / key
    if target.exists() and not replace:
        raise XbenchError(f"{model['name']} (revision {revision_of(model)[:12]}) is already on the board as {key}; use --replace to supersede it")
    incoming = submissions / f".incoming-{uuid.uuid4().hex}"
    incoming.mkdir(parents=True)
    try:
        for task in BOARD_TASKS:
            for name in (f"{task}.json", f"{task}{PER_QUERY_SUFFIX}"):
                shutil.copyfile(Path(result_dir) / name, incoming / name)
        meta = {
            "key": key,
            "model": model["name"],
            "revision": revision_of(model),
            "submitted": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
            "xbench_version": results[BOARD_TASKS[0]]["xbench_version"],
            "command": results[BOARD_TASKS[0]].get("command"),
        }
        atomic_write_text(incoming / "submission.json", json.dumps(meta, indent=2) + "\n")
        if target.exists():
            history = Path(board) / "history" / key
            history.mkdir(parents=True, exist_ok=True)
            os.replace(target, history / str(len(list(history.iterdir())) + 1))
        os.replace(incoming, target)
    finally:
        if incoming.exists():
            shutil.rmtree(incoming)
    return target


def load_entries(board: Path, with_per_query: bool = True) -> list[Entry]:
    """Every current submission, best overall first."""
    entries = []
    root = Path(board) / "submissions"
    for folder in sorted(p for p in root.glob("*") if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []:
        try:
            meta = json.loads((folder / "submission.json").read_text())
        except (OSError, ValueError) as exc:
            raise XbenchError(f"{folder / 'submission.json'}: unreadable ({exc})") from None
        results = {task: read_result(folder / f"{task}.json") for task in BOARD_TASKS}
        frames = {task: read_per_query(folder / f"{task}.json", results[task]) for task in BOARD_TASKS} if with_per_query else {}
        entries.append(Entry(folder.name, meta, results, frames))
    entries.sort(key=lambda e: (-e.overall, e.key))
    return entries


def tie_p_values(entries: list[Entry]) -> list[float | None]:
    """For each row, the paired t-test p-value of its per-query AP against the row above."""
    values: list[float | None] = [None]
    for above, below in zip(entries, entries[1:]):
        a, b = paired_scores(above.paired_ap(), below.paired_ap(), key=["task", *KEY])
        values.append(p_value(a, b, "student"))
    return values
