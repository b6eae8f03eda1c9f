"""What ``xbench compare``, ``xbench check`` and ``xbench robustness`` print: their reports as terminal tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabulate import tabulate

from .check import NOTABLE, tests_used
from .compare import Comparison

if TYPE_CHECKING:
    from .robustness import Report, Row


def compare_view(task: str, name_a: str, name_b: str, rows: list[Comparison], alpha: float) -> str:
    """One task's comparison: which model is A and which B, then one row per aggregate or setting
    and metric (B - A, the Holm-corrected p-value, starred at or below ``alpha``, and the paired
    test that gave it), then a blank line."""
    table = [[r.kind, r.setting.query_lang if r.setting else "", r.setting.corpus_lang if r.setting else "", r.metric, f"{r.a:.4f}", f"{r.b:.4f}",
              f"{r.delta:+.4f}", f"{r.p_holm:.3g}" + (" *" if r.p_holm <= alpha else ""), r.test] for r in rows]
    headers = ["kind", "query", "corpus", "metric", "A", "B", "B - A", "p (Holm)", "test"]
    return f"{task}: A = {name_a}, B = {name_b}\n{tabulate(table, headers=headers, tablefmt='github', disable_numparse=True)}\n"


def check_view(report: dict[str, list[Comparison]], failed: bool) -> str:
    """Per task, how many rows were checked, regressed and improved, a table of the rows that are
    not ok, and the verdict line: ``PASS`` or ``FAIL: regression``."""
    lines = []
    for task, rows in report.items():
        notable = [r for r in rows if r.status in NOTABLE]
        lines.append(f"{task}: {len(rows)} checked ({tests_used({task: rows})}), {sum(r.status == 'regression' for r in rows)} regression(s), "
                     f"{sum(r.status == 'improvement' for r in rows)} improvement(s)")
        if notable:
            table = [[r.label, r.metric, f"{r.a:.4f}", f"{r.b:.4f}", f"{r.delta:+.4f}", f"{r.p_holm:.3g}", r.test, r.status] for r in notable]
            headers = ["setting", "metric", "baseline", "candidate", "change", "p (Holm)", "test", "status"]
            lines.append(tabulate(table, headers=headers, tablefmt="github", disable_numparse=True))
    lines.append("FAIL: regression" if failed else "PASS")
    return "\n".join(lines)


def _share(row: Row) -> str:
    """How many of a row's queries the perturbation changed: "unchanged" when none (romanize on a
    Latin-script language), else the share."""
    share = row.changed_share
    return "-" if share is None else "unchanged" if row.changed == 0 else f"{share:.1%}"


def robustness_view(report: Report, alpha: float) -> str:
    """The robustness report as one table: a row per scope (query "all") and per kind and query
    language of each perturbed result; the model column only when the report covers several."""
    several = len({r.folder for r in report.rows}) > 1
    table = [[*([r.model] if several else []), r.task, r.perturbation, r.scope, r.query_lang or "all", f"{r.clean:.4f}", f"{r.perturbed:.4f}",
              f"{r.drop:+.4f}", "-" if r.relative_drop is None else f"{r.relative_drop:+.1%}",
              f"{r.p_holm:.3g}" + (" *" if r.p_holm <= alpha else ""), r.n, _share(r)] for r in report.rows]
    headers = [*(["model"] if several else []), "task", "perturbation", "scope", "query", "clean mAP", "perturbed mAP", "drop", "rel. drop",
               "p (Holm)", "n", "changed"]
    return (tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)
            + f"\ndrop = clean - perturbed mAP; p: paired {report.test} test on per-query AP, Holm-corrected over all {len(report.rows)} rows"
            + f" (* p <= {alpha})")
