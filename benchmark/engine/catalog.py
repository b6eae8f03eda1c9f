"""What ``xbench tasks`` lists: each registered task, how it pairs its languages, whether it is
symmetric, its language groups, and how many settings of each kind it has, counted from the data
when a copy is at hand and from the definition otherwise."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Iterable

from tabulate import tabulate

from benchmark.errors import XbenchError
from .settings import protocol_settings
from .task import load_task
from .taskdef import TaskDefinition

KINDS = ("mono", "cross", "multi")


def task_counts(definition: TaskDefinition, data_dir: Path | None) -> dict[str, Any]:
    """A task's row: its declaration (pairing, pivot, symmetry, languages, groups) and settings
    per kind, from the data when it can be read (offline), else from the definition (every
    language pair assumed to share questions: the protocol's full set of settings)."""
    row: dict[str, Any] = {"task": definition.name, "format": definition.format, "pairing": definition.pairing,
                           "pivot": definition.pivot, "symmetric": definition.symmetric, "languages": list(definition.languages),
                           "groups": {name: list(members) for name, members in definition.groups.items()}}
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
    return {**{kind: kinds.count(kind) for kind in KINDS}, "settings": len(kinds)}


def _pairing(row: dict[str, Any]) -> str:
    return f"pivot {row['pivot']}" if row["pairing"] == "pivot" else row["pairing"]


def tasks_table(rows: list[dict[str, Any]]) -> str:
    """The rows of :func:`task_counts` as a Markdown table: counts of languages and of each group's
    languages (``xbench tasks NAME`` lists them), "-" where the data was not found."""
    columns = ["task", "pairing", "symmetric", "languages", "groups", "mono", "cross", "multi", "settings", "queries", "candidates", "counted"]
    table = []
    for row in rows:
        shown = dict(row, pairing=_pairing(row), symmetric="yes" if row["symmetric"] else "no", languages=len(row["languages"]),
                     groups=" ".join(f"{name}:{len(members)}" for name, members in row["groups"].items()) or "-")
        table.append(["-" if shown[c] is None else shown[c] for c in columns])
    headers = [*columns[:-1], "counted from"]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


def task_details(definition: TaskDefinition, row: dict[str, Any]) -> str:
    """One task in full: its description, declaration, metrics, every language and every group's
    members, and the counts of :func:`task_counts`."""
    lines = [f"{definition.name} (version {definition.version}, format {definition.format})"]
    lines += [f"  {text}" for text in (definition.description, definition.reference) if text]
    symmetric = "yes (candidates encoded with the query role and prompt)" if definition.symmetric else "no"
    counts = ", ".join(f"{row[kind]} {kind}" for kind in KINDS if kind in definition.settings)
    located = "" if row["queries"] is None else f"; {row['queries']} queries, {row['candidates']} candidates"
    lines += [
        f"pairing:    {_pairing(row)}",
        f"symmetric:  {symmetric}",
        f"settings:   {row['settings']} ({counts}; counted from the {row['counted']}{located})",
        f"metrics:    {', '.join(definition.metrics)}",
        _wrapped(f"languages:  {len(definition.languages)}:", definition.languages),
    ]
    lines += [_wrapped(f"group {name}: {len(members)}:", members) for name, members in definition.groups.items()]
    return "\n".join(lines)


def _wrapped(label: str, codes: Iterable[str]) -> str:
    """``label`` then the codes, wrapped at 100 columns, continuation lines indented."""
    return textwrap.fill(" ".join(codes), width=100, initial_indent=label + " ", subsequent_indent=" " * 12)
