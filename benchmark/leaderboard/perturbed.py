"""Perturbed results on the board: which files a submission's perturbed runs are, what ``submit``
holds them to, and the numbers of the board's robustness view.

A submission may hold, beside each task's clean ``<task>.json``, perturbed runs
``<task>~<perturbation>.json`` (``xbench run --perturb`` or ``--suite robustness``). Each must be
the clean run of the same submission with only its queries perturbed (the same model, data, task
version, languages and candidate text, and the same queries of the same settings) under a
perturbation this xbench knows, at the version it has: otherwise its noisy queries are not the
ones the other entries were run on. Perturbed results never enter the ranking, the tie tests or
the task columns; the robustness view shows, per model, how much each perturbation costs per
setting kind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from benchmark.errors import UsageError, XbenchError
from benchmark.metrics.aggregate import KINDS
from benchmark.perturb import parse_perturbation
from benchmark.regression.robustness import Pair, paired_ap, pairing_problem
from benchmark.results import TaskResult
from .ranking import BOARD_TASKS, SHOWN_TASKS, Entry


def perturbed_keys(folder: Path) -> tuple[str, ...]:
    """The perturbed results in a submission (or a run's output folder): the keys of its
    ``<task>~<perturbation>.json`` files of the board's tasks, sorted."""
    names = [n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith(".") and "~" in n]
    return tuple(sorted(n[: -len(".json")] for n in names if n.partition("~")[0] in (*BOARD_TASKS, *SHOWN_TASKS)))


def check_perturbed(result: TaskResult, clean: dict[str, TaskResult], queries: bool = True) -> None:
    """Refuse (XbenchError naming the file) a perturbed result that is not the clean run of its
    task in this submission perturbed by a perturbation xbench knows at the version it has.
    ``queries``: also compare the per-query tables' (setting, query) pairs (what ``submit``
    does; reading a board needs only the identities)."""
    path = result.path
    record = result.perturbation
    if record is None:
        raise XbenchError(f"{path}: perturbation is missing (the file name says a perturbed run)")
    if f"{result.key}.json" != Path(str(path)).name:
        raise XbenchError(f"{path}: perturbation.key is {record['key']!r}, the file name says another")
    try:
        spec = parse_perturbation(record["key"], "perturbation.key")
    except UsageError as exc:
        raise XbenchError(f"{path}: {exc}") from None
    if spec.version != record["version"]:
        raise XbenchError(f"{path}: perturbation {spec.name} is version {record['version']}, this xbench has version {spec.version}")
    task = clean.get(result.task)
    if task is None:
        raise XbenchError(f"{path}: no clean {result.task}.json in the submission to pair it with")
    problem = pairing_problem(task, result)
    if problem:
        raise XbenchError(f"{path}: not the run of {task.path} with perturbed queries: {problem}")
    if queries:
        try:
            paired_ap(Pair(task, result))
        except UsageError as exc:
            raise XbenchError(str(exc)) from None


def robustness_rows(entries: list[Entry]) -> list[dict[str, Any]]:
    """For each entry with perturbed results (in board order), each task and perturbation: per
    setting kind, the clean and perturbed mAP (the results' headline scores), the drop (clean -
    perturbed) and the relative drop (drop / clean)."""
    rows = []
    order = {task: i for i, task in enumerate((*BOARD_TASKS, *SHOWN_TASKS))}
    for entry in entries:
        for key, result in sorted(entry.perturbed.items(), key=lambda item: (order[item[1].task], item[0])):
            clean = entry.results[result.task]
            for kind in KINDS:
                before, after = clean.score(kind), result.score(kind)
                if before is None or after is None:
                    continue
                drop = before - after
                rows.append({"model": entry.model.name, "key": entry.key, "task": result.task, "perturbation": result.perturbation["key"],
                             "kind": kind, "clean": before, "perturbed": after, "drop": drop, "relative_drop": drop / before if before else None})
    return rows
