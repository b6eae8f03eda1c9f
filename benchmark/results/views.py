"""Human-readable views of results (tabulate): the headline table, the language matrix, and what
an API model cost."""

from __future__ import annotations

from typing import Iterable

from tabulate import tabulate

from benchmark.engine.settings import ALL
from .result import TaskResult


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def summary_table(results: Iterable[TaskResult], tablefmt: str = "github") -> str:
    rows = [[r.task, r.model.name, _fmt(r.score("mono")), _fmt(r.score("cross")), _fmt(r.score("multi")), _fmt(r.score("rank_distance"), 1)]
            for r in results]
    return tabulate(rows, headers=["task", "model", "Mono mAP", "Cross mAP", "Multi mAP", "Rank dist."], tablefmt=tablefmt, disable_numparse=True)


def matrix_table(result: TaskResult, tablefmt: str = "github") -> str:
    """Query language (rows) x corpus language (columns) mAP, with the multilingual pool last."""
    langs = result.languages
    cell = {(s.setting.query_lang, s.setting.corpus_lang): s.map for s in result.settings}
    has_pool = any(s.setting.kind == "multi" for s in result.settings)
    headers = ["query \\ corpus", *langs] + (["pool"] if has_pool else [])
    rows = []
    for q in langs:
        row = [q] + [_fmt(cell.get((q, c))) for c in langs]
        if has_pool:
            row.append(_fmt(cell.get((q, ALL))))
        rows.append(row)
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def matrix_view(result: TaskResult) -> str:
    """The language matrix under its heading, as ``xbench run`` prints it after each task."""
    return f"\n{result.task}: query language x corpus language mAP\n{matrix_table(result)}\n"


def api_usage_line(result: TaskResult) -> str | None:
    """What an API model's run cost, as its server reported it; None for a model run locally."""
    usage = result.encoding
    if "api_requests" not in usage:
        return None
    return (f"{result.task}: {usage['api_requests']} API requests, {usage['api_retries']} retries, "
            f"{usage['api_tokens']} tokens reported by the server")
