"""What ``xbench tasks`` lists: each registered task, its languages and how many settings of each
kind it has, counted from the data when a copy is at hand and from the definition otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from tabulate import tabulate

from benchmark.errors import XbenchError
from .settings import protocol_settings
from .task import load_task
from .taskdef import TaskDefinition

KINDS = ("mono", "cross", "multi")


def task_counts(definition: TaskDefinition, data_dir: Path | None) -> dict[str, Any]:
    """Settings per kind, from the data when it can be read (offline), else from the definition
    (every language pair assumed to share questions: the protocol's full set of settings)."""
    row: dict[str, Any] = {"task": definition.name, "languages": " ".join(definition.languages)}
    try:
        task = load_task(definition, data_dir, download=False, check=False)
    except XbenchError:
        settings = protocol_settings(definition.settings, definition.languages, definition.pivot)
        row.update(_per_kind(s.kind for s in settings), queries=None, candidates=None, counted="definition")
        return row
    row.update(_per_kind(p.setting.kind for p in task.plans), queries=task.data.n_queries, candidates=task.data.n_candidates,
               counted="data")
    return row


def _per_kind(kinds: Iterable[str]) -> dict[str, int]:
    kinds = list(kinds)
    return {kind: kinds.count(kind) for kind in KINDS}


def tasks_table(rows: list[dict[str, Any]]) -> str:
    """The rows of :func:`task_counts` as a Markdown table ("-" where the data was not found)."""
    columns = ["task", "languages", "mono", "cross", "multi", "queries", "candidates", "counted"]
    table = [["-" if row[c] is None else row[c] for c in columns] for row in rows]
    headers = ["task", "languages", "mono", "cross", "multi (query langs)", "queries", "candidates", "counted from"]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)
