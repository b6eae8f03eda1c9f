"""Human-readable views of result dicts (tabulate): the headline table, the language matrix, and
what an API model cost."""

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


def matrix_view(result: dict[str, Any]) -> str:
    """The language matrix under its heading, as ``xbench run`` prints it after each task."""
    return f"\n{result['task']}: query language x corpus language mAP\n{matrix_table(result)}\n"


def api_usage_line(result: dict[str, Any]) -> str | None:
    """What an API model's run cost, as its server reported it; None for a model run locally."""
    usage = result["encoding"]
    if "api_requests" not in usage:
        return None
    return (f"{result['task']}: {usage['api_requests']} API requests, {usage['api_retries']} retries, "
            f"{usage['api_tokens']} tokens reported by the server")
