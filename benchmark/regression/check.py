"""Regression checks of a checkpoint against a baseline, for CI.

A setting (or aggregate) regresses on a metric (mAP, accuracy...) when the metric drops by more
than ``max_drop`` (absolute) *and* the drop is significant: a paired test on the per-query values,
Holm-corrected over every setting, aggregate and metric of the task, at ``alpha``. Both
conditions: the tolerance keeps tiny real changes from failing builds, the test keeps noise from
doing it. Which way is worse, and which test applies, is the metric's own declaration
(:class:`benchmark.metrics.MetricSpec`): rank distance, lower is better, regresses when it rises
by more than ``max_rank_distance_increase`` ranks, significantly; accuracy, a 0/1 outcome per
query, is tested by McNemar's exact test, the continuous metrics by ``test``. A descriptive measure
(own-language share of the top 10: neither more nor less is better) is reported, never judged.

Robustness: when baseline and candidate both hold a perturbed result and its clean result, the
per-query drop of AP under the perturbation (clean - perturbed) is compared too, per setting kind
(:mod:`.drops`); a drop that grows by more than ``max_drop``, significantly, is a regression.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from benchmark.metrics import MetricSpec
from benchmark.results import TaskResult
from .compare import Comparison, compare_task, holm_adjusted
from .drops import compare_drops
from .robustness import Pair
from benchmark.fsutil import atomic_write_bytes


@dataclass(frozen=True)
class Tolerance:
    max_drop: float = 0.01
    max_rank_distance_increase: float = 10.0
    alpha: float = 0.05
    test: str = "student"  # for continuous metrics; binary ones always get McNemar's exact test
    metrics: tuple[str, ...] = ()  # the metrics checked; () = compare.DEFAULT_METRICS the results hold

    def allowed(self, spec: MetricSpec) -> float:
        """How far ``spec`` may move the wrong way before it counts: ``max_drop`` for scores,
        ``max_rank_distance_increase`` for metrics counted in ranks."""
        return self.max_rank_distance_increase if spec.unit == "ranks" else self.max_drop


NOTABLE = ("regression", "improvement")


def judge(rows: list[Comparison], tol: Tolerance) -> list[Comparison]:
    """Set each comparison's ``status``: regression, improvement or ok; ``descriptive`` for a
    measure with no better direction (own-language share), which is shown and never gates. The
    row's metric spec says which way is better and in which unit its tolerance is given (a drop
    under a perturbation: growing is worse)."""
    for row in rows:
        spec = row.spec
        significant = row.p_holm <= tol.alpha
        gain, allowed = spec.gain(row.delta), tol.allowed(spec)
        if gain is None:
            row.status = "descriptive"
            continue
        worse, better = gain < -allowed, gain > allowed
        row.status = "regression" if worse and significant else "improvement" if better and significant else "ok"
    return rows


def check_task(baseline: TaskResult, candidate: TaskResult, tol: Tolerance, clean: tuple[TaskResult, TaskResult] | None = None) -> list[Comparison]:
    """The judged rows of ``candidate`` against ``baseline`` (results of the same key). For a
    perturbed result, ``clean`` (the baseline's and the candidate's clean results of the task) adds
    the drop under the perturbation per scope (when mAP is checked), Holm-corrected with the rest."""
    rows = compare_task(baseline, candidate, test=tol.test, metrics=tol.metrics or None)
    if clean is not None and (not tol.metrics or "map" in tol.metrics):
        rows = holm_adjusted(rows + compare_drops(Pair(clean[0], baseline), Pair(clean[1], candidate), tol.test))
    return judge(rows, tol)


def junit_xml(report: dict[str, list[Comparison]], tol: Tolerance) -> bytes:
    """One test suite per task, one test case per setting (or aggregate) and metric, classed by
    task and metric (``tatoeba.accuracy``); regressions fail, naming the test that found them."""
    suites = ET.Element("testsuites", name="xbench check")
    for task, rows in report.items():
        failures = sum(r.status == "regression" for r in rows)
        suite = ET.SubElement(suites, "testsuite", name=f"xbench check {task}", tests=str(len(rows)), failures=str(failures), errors="0", skipped="0")
        for row in rows:
            case = ET.SubElement(suite, "testcase", classname=f"{task}.{row.metric}", name=row.label)
            text = f"{row.spec.name} {row.a:.4f} -> {row.b:.4f} ({row.delta:+.4f}), p_holm={row.p_holm:.3g} ({row.test}), n={row.n}"
            if row.status == "regression":
                failure = ET.SubElement(case, "failure", message=f"regression: {text}", type="regression")
                failure.text = f"allowed {tol.allowed(row.spec)}, alpha {tol.alpha} ({row.test} test, Holm-corrected)"
            else:
                ET.SubElement(case, "system-out").text = f"{row.status}: {text}"
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit(path: Path, report: dict[str, list[Comparison]], tol: Tolerance) -> None:
    atomic_write_bytes(Path(path), junit_xml(report, tol))


def markdown_summary(report: dict[str, list[Comparison]], tol: Tolerance, baseline: str, candidate: str) -> str:
    lines = [f"### xbench check: {candidate} vs {baseline}", ""]
    for task, rows in report.items():
        notable = [r for r in rows if r.status in NOTABLE]
        regressions = sum(r.status == "regression" for r in rows)
        lines.append(f"**{task}**: {'FAIL' if regressions else 'pass'}, {regressions} regression(s), "
                     f"{sum(r.status == 'improvement' for r in rows)} improvement(s) of {len(rows)} checked")
        if notable:
            lines += ["", "| setting | metric | baseline | candidate | change | p (Holm) | test | |", "|---|---|---|---|---|---|---|---|"]
            lines += [f"| {r.label} | {r.metric} | {r.a:.4f} | {r.b:.4f} | {r.delta:+.4f} | {r.p_holm:.3g} | {r.test} | {r.status} |" for r in notable]
        lines.append("")
    lines.append(f"Regression: a drop > {tol.max_drop} (rank distance: a rise > {tol.max_rank_distance_increase}) significant at "
                 f"{tol.alpha}, Holm-corrected; tests: {tests_used(report)}.")
    return "\n".join(lines) + "\n"


def tests_used(report: dict[str, list[Comparison]]) -> str:
    """Which test each checked metric got, e.g. ``accuracy: mcnemar-exact, map: student``."""
    used = {r.metric: r.test for rows in report.values() for r in rows}
    return ", ".join(f"{metric}: {test}" for metric, test in used.items()) or "none"


def append_github_summary(text: str) -> None:
    """Append to the GitHub Actions job summary when running there."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)


def report_json(report: dict[str, list[Comparison]]) -> str:
    return json.dumps({task: [r.to_dict() for r in rows] for task, rows in report.items()}, indent=2)
