"""The board's robustness view: per model with perturbed runs, what each perturbation costs per
task and setting kind (the mAP drop, clean - perturbed, and the relative drop).

A row per (model, perturbation), in board order then the task's perturbations sorted; a column per
task and kind that any row has. The page colours a cell by the share of the clean mAP kept
(:func:`.langview.heat_background` of 1 - relative drop: green kept, red lost) and titles it with
both mAPs; the Markdown view writes ``drop (relative drop)``. Everything a submission says is
escaped (``html.escape``, :func:`.views.md_text`).
"""

from __future__ import annotations

import html
from typing import Any, Callable

from tabulate import tabulate

from .columns import TASK_TITLES
from .langview import heat_background

ROBUSTNESS_TEXT = (
    "Robustness: for models whose submission holds perturbed runs (`xbench run --suite robustness`: typos, no diacritics, "
    "romanised queries, punctuation noise, a distractor clause), the drop of each setting kind's mAP from the clean run to "
    "the perturbed one (clean - perturbed; positive: the perturbation hurts) and, in brackets, the drop relative to the "
    "clean mAP. Only queries are perturbed, every model sees the same noisy queries, and perturbed runs enter neither the "
    "ranking nor the task columns. `xbench robustness` gives the per-language drops with paired tests."
)

Cell = tuple[str, str]  # (task, kind)


def _columns(rows: list[dict[str, Any]]) -> list[Cell]:
    return list(dict.fromkeys((r["task"], r["kind"]) for r in rows))


def _grid(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[Cell, dict[str, Any]]]:
    """(entry key, perturbation) -> (task, kind) -> row, in the rows' order."""
    grid: dict[tuple[str, str], dict[Cell, dict[str, Any]]] = {}
    for r in rows:
        grid.setdefault((r["key"], r["perturbation"]), {})[(r["task"], r["kind"])] = r
    return grid


def _relative(row: dict[str, Any]) -> str:
    return "-" if row["relative_drop"] is None else f"{row['relative_drop']:.1%}"


def robustness_table(rows: list[dict[str, Any]], escape: Callable[[str], str]) -> str:
    """The Markdown table: ``drop (relative drop)`` per task and kind; ``escape`` makes submitted text inert."""
    columns, grid = _columns(rows), _grid(rows)
    models = {r["key"]: r["model"] for r in rows}
    table = [[escape(str(models[key])), escape(str(perturbation)),
              *(f"{cells[c]['drop']:.3f} ({_relative(cells[c])})" if c in cells else "-" for c in columns)]
             for (key, perturbation), cells in grid.items()]
    headers = ["model", "perturbation", *(f"{TASK_TITLES.get(task, task)} {kind.capitalize()}" for task, kind in columns)]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "<td class='na'>-</td>"
    kept = 1.0 - min(max(row["relative_drop"] or 0.0, 0.0), 1.0)
    title = (f"{TASK_TITLES.get(row['task'], row['task'])} {row['kind']}: clean {row['clean']:.4f}, perturbed {row['perturbed']:.4f}, "
             f"drop {row['drop']:.4f} ({_relative(row)})")
    return (f"<td style='background:{heat_background(kept)}' title='{html.escape(title, quote=True)}'>"
            f"{row['drop']:.3f}<br><small>{html.escape(_relative(row))}</small></td>")


def robustness_view(rows: list[dict[str, Any]]) -> str:
    """The page's robustness section: a heading, what the numbers are, and the table."""
    head = "<h2 id='robustness'>Robustness</h2>"
    if not rows:
        return head + "<p class='lead'>No entry has perturbed runs yet (<code>xbench run --suite robustness</code>).</p>"
    columns, grid = _columns(rows), _grid(rows)
    models = {r["key"]: r["model"] for r in rows}
    tasks = list(dict.fromkeys(task for task, _ in columns))
    group_heads = "".join(f"<th class='group' colspan='{sum(t == task for t, _ in columns)}'>{html.escape(TASK_TITLES.get(task, task))}</th>"
                          for task in tasks)
    kind_heads = "".join(f"<th>{html.escape(kind.capitalize())}</th>" for _, kind in columns)
    body = "".join(f"<tr><td class='name'>{html.escape(str(models[key]))}</td><td class='name'>{html.escape(str(perturbation))}</td>"
                   + "".join(_cell(cells.get(c)) for c in columns) + "</tr>" for (key, perturbation), cells in grid.items())
    text = html.escape(ROBUSTNESS_TEXT).replace("`xbench run --suite robustness`", "<code>xbench run --suite robustness</code>")
    text = text.replace("`xbench robustness`", "<code>xbench robustness</code>")
    return (f"{head}<p class='lead'>{text}</p><div class='scroll'><table class='robust'><thead>"
            f"<tr><th class='group' colspan='2'></th>{group_heads}</tr><tr><th class='name'>model</th><th class='name'>perturbation</th>{kind_heads}</tr>"
            f"</thead><tbody>{body}</tbody></table></div>")
