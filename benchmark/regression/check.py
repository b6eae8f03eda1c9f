"""Regression checks of a checkpoint against a baseline, for CI.

A setting (or aggregate) regresses when its mAP drops by more than ``max_drop`` (absolute) *and*
the drop is significant: a paired test on the per-query values, Holm-corrected over every setting
and aggregate of the task, at ``alpha``. Both conditions: the tolerance keeps tiny real changes
from failing builds, the test keeps noise from doing it. Which way is worse is the metric's own
declaration (:class:`benchmark.metrics.MetricSpec`): rank distance, lower is better, regresses
when it rises by more than ``max_rank_distance_increase`` ranks, significantly.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from benchmark.metrics import metric_spec, MetricSpec
from benchmark.results import TaskResult
from .compare import Comparison, compare_task
from benchmark.fsutil import atomic_write_bytes


@dataclass(frozen=True)
class Tolerance:
    max_drop: float = 0.01
    max_rank_distance_increase: float = 10.0
    alpha: float = 0.05
    test: str = "student"

    def allowed(self, spec: MetricSpec) -> float:
        """How far ``spec`` may move the wrong way before it counts: ``max_drop`` for scores,
        ``max_rank_distance_increase`` for metrics counted in ranks."""
        return self.max_rank_distance_increase if spec.unit == "ranks" else self.max_drop


def judge(rows: list[Comparison], tol: Tolerance) -> list[Comparison]:
    """Set each comparison's ``status``: regression, improvement or ok. The row's metric spec
    says which way is better and in which unit its tolerance is given."""
    for row in rows:
        spec = metric_spec(row.metric)
        significant = row.p_holm <= tol.alpha
        gain, allowed = spec.gain(row.delta), tol.allowed(spec)
        worse, better = gain < -allowed, gain > allowed
        row.status = "regression" if worse and significant else "improvement" if better and significant else "ok"
    return rows


def check_task(baseline: TaskResult, candidate: TaskResult, tol: Tolerance) -> list[Comparison]:
    return judge(compare_task(baseline, candidate, test=tol.test), tol)


def junit_xml(report: dict[str, list[Comparison]], tol: Tolerance) -> bytes:
    """One test suite per task, one test case per setting and aggregate; regressions fail."""
    suites = ET.Element("testsuites", name="xbench check")
    for task, rows in report.items():
        failures = sum(r.status == "regression" for r in rows)
        suite = ET.SubElement(suites, "testsuite", name=f"xbench check {task}", tests=str(len(rows)), failures=str(failures), errors="0", skipped="0")
        for row in rows:
            case = ET.SubElement(suite, "testcase", classname=f"{task}.{row.kind}", name=row.label)
            text = f"{row.a:.4f} -> {row.b:.4f} ({row.delta:+.4f}), p_holm={row.p_holm:.3g}, n={row.n}"
            if row.status == "regression":
                failure = ET.SubElement(case, "failure", message=f"regression: {text}", type="regression")
                failure.text = f"max drop {tol.max_drop}, alpha {tol.alpha} ({tol.test} test, Holm-corrected)"
            else:
                ET.SubElement(case, "system-out").text = f"{row.status}: {text}"
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit(path: Path, report: dict[str, list[Comparison]], tol: Tolerance) -> None:
    atomic_write_bytes(Path(path), junit_xml(report, tol))


def markdown_summary(report: dict[str, list[Comparison]], tol: Tolerance, baseline: str, candidate: str) -> str:
    lines = [f"### xbench check: {candidate} vs {baseline}", ""]
    for task, rows in report.items():
        notable = [r for r in rows if r.status != "ok"]
        regressions = sum(r.status == "regression" for r in rows)
        lines.append(f"**{task}**: {'FAIL' if regressions else 'pass'}, {regressions} regression(s), "
                     f"{sum(r.status == 'improvement' for r in rows)} improvement(s) of {len(rows)} checked")
        if notable:
            lines += ["", "| setting | baseline | candidate | change | p (Holm) | |", "|---|---|---|---|---|---|"]
            lines += [f"| {r.label} | {r.a:.4f} | {r.b:.4f} | {r.delta:+.4f} | {r.p_holm:.3g} | {r.status} |" for r in notable]
        lines.append("")
    lines.append(f"Regression: mAP drop > {tol.max_drop} and significant at {tol.alpha} ({tol.test} test, Holm).")
    return "\n".join(lines) + "\n"


def append_github_summary(text: str) -> None:
    """Append to the GitHub Actions job summary when running there."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)


def report_json(report: dict[str, list[Comparison]]) -> str:
    return json.dumps({task: [r.to_dict() for r in rows] for task, rows in report.items()}, indent=2)
