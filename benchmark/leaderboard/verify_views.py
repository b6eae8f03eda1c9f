"""What ``xbench verify`` prints: one row per re-run setting, and the one-line verdict."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from .verify import Verification


def verify_table(outcome: Verification) -> str:
    """Each sampled setting: queries compared, the largest AP and any-value differences, how many
    queries disagree, and ok or DIFFERS."""
    table = [[c.pick.task, c.pick.setting.label, c.compared, f"{c.max_abs_diff.get('ap', 0.0):.2g}",
              f"{max(c.max_abs_diff.values(), default=0.0):.2g}", len(c.differing) + len(c.missing) + len(c.unexpected),
              "ok" if c.agrees else "DIFFERS"] for c in outcome.checks]
    headers = ["task", "setting", "queries", "max |dAP|", "max |d| any value", "disagreeing", "status"]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


def verdict(report: dict[str, Any]) -> str:
    """One line: what was checked with which seed, and either where it was recorded or what disagrees."""
    diffs = ", ".join(f"{k} {'NaN' if v is None else f'{v:.2g}'}" for k, v in report["max_abs_diff"].items())
    head = f"{len(report['settings'])} of {report['settings_total']} settings, {report['queries_compared']} queries, seed {report['seed']}; max |diff|: {diffs}"
    if report["result"] == "verified":
        return f"VERIFIED: {head}" + (f"; recorded {report['recorded']}" if report["recorded"] else "")
    bad = [s for s in report["settings"] if not s["agrees"]]
    named = "; ".join(f"{s['task']} {s['kind']} {s['query_lang']}->{s['corpus_lang']}: "
                      f"{s['differing']} differ, {s['missing']} missing, {s['unexpected']} unexpected (e.g. {', '.join(s['examples'])})" for s in bad)
    return f"DISAGREES: {len(bad)} setting(s): {named} ({head})"
