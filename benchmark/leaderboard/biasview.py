"""The board's per-language view of language bias: what each model's multilingual ranking
prefers, per query language, on each ranked task.

One small table per task and measure (rank distance, own-language share@10, English share@10,
own-language first, mean rank correlation), a row per model in board order and a column per query
language, so that a column compares the models on one language and a row shows where a model's
preference lies. The own-share table starts with the pool's own share of each language's
candidates (|candidates of X| / |pool|, PROTOCOL.md): what a ranking indifferent to language would
score. Both views (the Markdown README and the page) render the same cells from :func:`tables`;
an entry submitted before the bias measures shows "-" in theirs. The shares and own-language
first describe a preference and are neither better nor worse high, so the page shades them in one
neutral hue by size; only the rank correlation, where higher is better, gets the board's
red-to-green scale.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from benchmark.results import TaskResult
from .columns import TASK_TITLES
from .langview import heat_background
from .ranking import BOARD_TASKS, Entry

# (metric, title, digits, colour): "heat" red-to-green (higher is better), "shade" neutral, "" none
MEASURES = (
    ("rank_distance", "Rank distance (lower: the languages' answers ranked closer together)", 1, ""),
    ("own_share", "Own-language share of the top 10", 3, "shade"),
    ("english_share", "English share of the top 10", 3, "shade"),
    ("own_first", "Own-language answer first", 3, "shade"),
    ("rank_correlation", "Mean rank correlation between a question's languages", 3, "heat"),
)
POOL_ROW = "pool share (reference)"  # the own-share table's reference row


@dataclass(frozen=True)
class Table:
    """One task's table of one measure: query languages, then (row label, values) per row."""

    task: str
    metric: str
    title: str
    digits: int
    colour: str
    languages: tuple[str, ...]
    rows: tuple[tuple[str, tuple[float | None, ...]], ...]


def per_language(result: TaskResult, metric: str, languages: tuple[str, ...]) -> tuple[float | None, ...]:
    """The value of ``metric`` in each query language's multilingual setting (None where absent)."""
    values = {s.setting.query_lang: s.values.get(metric) for s in result.settings if s.setting.kind == "multi"}
    return tuple(values.get(lang) for lang in languages)


def pool_shares(result: TaskResult, languages: tuple[str, ...]) -> tuple[float | None, ...]:
    counts = result.candidate_counts
    total = sum(counts.values())
    return tuple(counts[lang] / total if lang in counts and total else None for lang in languages)


def tables(rows: list[dict[str, Any]], entries: list[Entry]) -> list[Table]:
    """Every table of the view, task by task, for the board's rows (in board order)."""
    by_key = {e.key: e for e in entries}
    shown = [(str(r["model"]), by_key[r["key"]]) for r in rows if r["key"] in by_key]
    out = []
    for task in BOARD_TASKS:
        results = [(model, entry.results[task]) for model, entry in shown if task in entry.results]
        if not results:
            continue
        languages = tuple(dict.fromkeys(lang for _, r in results for lang in r.languages))
        for metric, title, digits, colour in MEASURES:
            body = [(model, per_language(result, metric, languages)) for model, result in results]
            if metric == "own_share":
                body.insert(0, (POOL_ROW, pool_shares(results[0][1], languages)))
            out.append(Table(task, metric, title, digits, colour, languages, tuple(body)))
    return out


def _cell(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown_lines(rows: list[dict[str, Any]], entries: list[Entry], escape) -> list[str]:
    """The view as Markdown: a heading per task, a table per measure (``escape``: the Markdown
    view's escaping of submitted text)."""
    from tabulate import tabulate

    lines: list[str] = ["## Language bias per query language", ""]
    task = None
    for table in tables(rows, entries):
        if table.task != task:
            task = table.task
            lines += [f"### {TASK_TITLES.get(task, task)}", ""]
        body = [[escape(label), *(_cell(v, table.digits) for v in values)] for label, values in table.rows]
        lines += [f"{table.title}:", "", tabulate(body, headers=["model", *table.languages], tablefmt="github", disable_numparse=True), ""]
    return lines


def _shade(value: float) -> str:
    """A neutral blue, darker for more: size without a verdict."""
    return f"hsl(210,55%,{95 - 40 * min(max(value, 0.0), 1.0):.0f}%)"


def _html_cell(value: float | None, digits: int, colour: str) -> str:
    if value is None:
        return "<td class='na'>-</td>"
    style = {"heat": lambda v: heat_background(min(max(v, 0.0), 1.0)), "shade": _shade}.get(colour)
    background = f" style='background:{style(value)}'" if style else ""
    return f"<td{background} title='{value:.4f}'>{value:.{digits}f}</td>"


def html_view(rows: list[dict[str, Any]], entries: list[Entry], lead: str) -> str:
    """The view as a page section: per task, the tables side by side (everything escaped)."""
    parts = ["<h2 id='bias'>Language bias per query language</h2>", f"<p class='lead'>{html.escape(lead)}</p>"]
    by_task: dict[str, list[Table]] = {}
    for table in tables(rows, entries):
        by_task.setdefault(table.task, []).append(table)
    for task, task_tables in by_task.items():
        figures = []
        for t in task_tables:
            head = "".join(f"<th>{html.escape(lang)}</th>" for lang in t.languages)
            body = "".join(f"<tr><th class='model' title='{html.escape(label, quote=True)}'>{html.escape(label)}</th>"
                           + "".join(_html_cell(v, t.digits, t.colour) for v in values) + "</tr>" for label, values in t.rows)
            figures.append(f"<figure><figcaption>{html.escape(t.title)}</figcaption><table class='bias'><thead><tr><th></th>{head}</tr>"
                           f"</thead><tbody>{body}</tbody></table></figure>")
        parts.append(f"<h3>{html.escape(TASK_TITLES.get(task, task))}</h3><div class='heatmaps'>{''.join(figures)}</div>")
    return "".join(parts)
