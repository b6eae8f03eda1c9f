"""Human-readable views of result dicts (tabulate): the headline table and the language matrix."""

from __future__ import annotations

from typing import Any, Iterable

from tabulate import tabulate


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def summary_table(results: Iterable[dict[str, Any]], tablefmt: str = "github") -> str:
    rows = []
    for r in results:
        s = r["scores"]
        rows.append([r["task"], r["model"]["name"], _fmt(s["mono"]), _fmt(s["cross"]), _fmt(s["multi"]), _fmt(s["rank_distance"], 1)])
    return tabulate(rows, headers=["task", "model", "Mono mAP", "Cross mAP", "Multi mAP", "Rank dist."], tablefmt=tablefmt, disable_numparse=True)


def matrix_table(result: dict[str, Any], tablefmt: str = "github") -> str:
    """Query language (rows) x corpus language (columns) mAP, with the multilingual pool last."""
    langs = result["languages"]
    cell = {(s["query_lang"], s["corpus_lang"]): s["map"] for s in result["settings"]}
    has_pool = any(s["kind"] == "multi" for s in result["settings"])
    headers = ["query \\ corpus", *langs] + (["pool"] if has_pool else [])
    rows = []
    for q in langs:
        row = [q] + [_fmt(cell.get((q, c))) for c in langs]
        if has_pool:
            row.append(_fmt(cell.get((q, "all"))))
        rows.append(row)
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)
