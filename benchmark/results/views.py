"""Human-readable views of results (tabulate): the headline tables, the language matrix of a
parallel task and its language bias per query language, the per-language table of a pivot task
(Tatoeba), and what an API model cost."""

from __future__ import annotations

from typing import Iterable, Sequence

from tabulate import tabulate

from benchmark.engine.settings import ALL
from benchmark.metrics.aggregate import direction_scopes
from .result import TaskResult


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# the language-bias numbers beside the rank distance: (metric, column title); "-" where a result has none
BIAS_TITLES = (("own_share", "Own@10"), ("english_share", "En@10"), ("own_first", "Own first"), ("rank_correlation", "Rank corr."))


def summary_table(results: Iterable[TaskResult], tablefmt: str = "github") -> str:
    """The headline numbers of each result: Mono, Cross, Multi mAP, rank distance and the bias
    measures for the parallel tasks; for the pivot tasks (which have none of those but Cross) a second table of
    their own headline, accuracy over all settings, per direction and per language group."""
    results = list(results)
    parallel = [r for r in results if r.pivot is None]
    pivoted = [r for r in results if r.pivot is not None]
    tables = []
    if parallel or not pivoted:
        rows = [[r.key, r.model.name, _fmt(r.score("mono")), _fmt(r.score("cross")), _fmt(r.score("multi")), _fmt(r.score("rank_distance"), 1),
                 *(_fmt(r.score(name)) for name, _ in BIAS_TITLES)]
                for r in parallel]
        headers = ["task", "model", "Mono mAP", "Cross mAP", "Multi mAP", "Rank dist.", *(title for _, title in BIAS_TITLES)]
        tables.append(tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True))
    if pivoted:
        tables.append(pivot_summary_table(pivoted, tablefmt))
    return "\n\n".join(tables)


def headline_metric(result: TaskResult) -> str:
    """What a pivot task is judged by: accuracy when the task computes it (Tatoeba), else mAP."""
    return "accuracy" if "accuracy" in result.row_metrics else "map"


def _directions(pivots: set[str]) -> tuple[str, str]:
    """Column names of the two directions: the pivot's own name when every task shares it."""
    return direction_scopes(next(iter(pivots)) if len(pivots) == 1 else "pivot")


def pivot_summary_table(results: Sequence[TaskResult], tablefmt: str = "github") -> str:
    """One row per pivot-task result: its headline metric over all settings, each direction and
    each declared group (a group another task declares is "-"), and mAP over all settings."""
    groups = list(dict.fromkeys(name for r in results for name in r.groups))
    to_pivot, from_pivot = _directions({r.pivot for r in results})
    rows = []
    for r in results:
        metric = headline_metric(r)
        scopes = ["all", *direction_scopes(r.pivot), *groups]
        rows.append([r.key, r.model.name, metric, *(_fmt(r.aggregate(scope, metric)) for scope in scopes), _fmt(r.aggregate("all", "map"))])
    headers = ["task", "model", "metric", "all", to_pivot, from_pivot, *groups, "mAP (all)"]
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def pivot_table(result: TaskResult, tablefmt: str = "github") -> str:
    """One row per language of a pivot task: the headline metric (accuracy) of X->pivot and
    pivot->X and their mean, mAP over both directions, and the groups the language belongs to;
    best mean first (ties in task order), a language whose settings are missing last."""
    pivot, metric = result.pivot, headline_metric(result)
    by_pair = {(s.setting.query_lang, s.setting.corpus_lang): s for s in result.settings}
    rows = []
    for lang in result.languages:
        sides = [by_pair.get((lang, pivot)), by_pair.get((pivot, lang))]
        values = [s.values[metric] if s else None for s in sides]
        mean = _mean([v for v in values if v is not None])
        ap = _mean([s.map for s in sides if s])
        member = " ".join(name for name, langs in result.groups.items() if lang in langs)
        rows.append((mean, [lang, *(_fmt(v) for v in values), _fmt(mean), _fmt(ap), member]))
    rows.sort(key=lambda row: float("inf") if row[0] is None else -row[0])
    to_pivot, from_pivot = _directions({pivot})
    headers = ["language", to_pivot, from_pivot, "mean", "mAP", "groups"]
    return tabulate([row for _, row in rows], headers=headers, tablefmt=tablefmt, disable_numparse=True)


def aggregates_table(result: TaskResult, tablefmt: str = "github") -> str:
    """Each aggregate scope of the result (all, the directions, the groups...) with how many of
    the run's languages it covers, its headline metric and mAP."""
    metrics = list(dict.fromkeys([headline_metric(result), "map"]))
    langs = set(result.languages)
    rows = [[scope, len(langs & set(result.groups[scope])) if scope in result.groups else len(langs),
             *(_fmt(values.get(m)) for m in metrics)]
            for scope, values in (result.aggregates or {}).items()]
    headers = ["scope", "languages", *("mAP" if m == "map" else m for m in metrics)]
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


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


def bias_table(result: TaskResult, tablefmt: str = "github") -> str | None:
    """Per query language, what its multilingual ranking prefers: the rank distance and the bias
    measures of its multi setting ("-" where undefined or not recorded), beside the pool's own
    share of its candidates (the own share an indifferent ranking would have). None without a
    multilingual pool."""
    multi = {s.setting.query_lang: s for s in result.settings if s.setting.kind == "multi"}
    if not multi:
        return None
    counts = result.candidate_counts
    total = sum(counts.values())
    rows = [[lang, _fmt(s.values.get("rank_distance"), 1), *(_fmt(s.values.get(name)) for name, _ in BIAS_TITLES),
             _fmt(counts[lang] / total if lang in counts and total else None)]
            for lang, s in multi.items()]
    headers = ["query", "Rank dist.", *(title for _, title in BIAS_TITLES), "pool share"]
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def matrix_view(result: TaskResult) -> str:
    """What ``xbench run`` prints after each task: the language matrix of a parallel task and its
    language bias per query language; for a pivot task, whose languages meet only the pivot, the
    per-language table and the aggregates."""
    if result.pivot is not None:
        return pivot_view(result)
    text = f"\n{result.key}: query language x corpus language mAP\n{matrix_table(result)}\n"
    bias = bias_table(result)
    if bias is not None:
        text += f"\n{result.key}: language bias of the multilingual ranking, per query language\n{bias}\n"
    return text


def pivot_view(result: TaskResult) -> str:
    """The per-language table under its heading, then the aggregates (absent from old results)."""
    metric = headline_metric(result)
    text = (f"\n{result.key}: {metric} per language, each paired with {result.pivot}, both directions; best first\n"
            f"{pivot_table(result)}\n")
    if result.aggregates:
        text += f"\n{result.key}: aggregates (macro means over the settings of each scope)\n{aggregates_table(result)}\n"
    return text


def api_usage_line(result: TaskResult) -> str | None:
    """What an API model's run cost, as its server reported it; None for a model run locally."""
    usage = result.encoding
    if "api_requests" not in usage:
        return None
    return (f"{result.key}: {usage['api_requests']} API requests, {usage['api_retries']} retries, "
            f"{usage['api_tokens']} tokens reported by the server")
