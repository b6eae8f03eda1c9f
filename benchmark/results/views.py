"""Human-readable views of results (tabulate): the headline table and the language matrix."""

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
