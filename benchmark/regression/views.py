"""What ``xbench compare`` and ``xbench check`` print: their reports as terminal tables."""

from __future__ import annotations

from tabulate import tabulate

from .check import NOTABLE, tests_used
from .compare import Comparison


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
