"""``xbench check`` as a library call: candidate results against a baseline, task by task.

The candidate is either a result folder read from disk (:func:`load_candidates`) or the results a
run has just produced, handed on in memory (``benchmark.run.run_model`` returns them in the same
shape): both are what a reader of the written files gets, so the verdicts are the same either way.
Each candidate result is paired with the baseline's result of the same key (a task, or a task
under a perturbation) and judged (:func:`~benchmark.regression.check.check_task`); a perturbed
result whose clean result both sides hold is judged on its drop too. The report then goes to JUnit
XML, the GitHub job summary and the terminal. :func:`baseline_perturbations` says which
perturbations ``xbench check --model`` runs: those the baseline holds.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.errors import UsageError
from benchmark.perturb import PerturbationSpec, against_installed
from .check import Tolerance, append_github_summary, check_task, markdown_summary, write_junit
from benchmark.results import TaskResult
from .compare import Comparison, load, measured

Report = dict[str, list[Comparison]]  # result key (task, or <task>~<perturbation>) -> judged rows


class Unpaired(UsageError):
    """A candidate task the baseline has no result for, or no candidate at all (exit 2): the
    command line reports it with a pointer to ``xbench check --help``."""


def load_candidates(folder: Path, tasks: tuple[str, ...] = ()) -> list[TaskResult]:
    """The results in ``folder`` (a result file or a run folder), only those of ``tasks`` if given
    (a task's perturbed runs with it)."""
    candidates = load(folder)
    return [c for c in candidates if c.task in tasks] if tasks else candidates


def judge_candidates(candidates: list[TaskResult], baseline: Path, tol: Tolerance) -> Report:
    """Judge every candidate against the baseline's result of the same key (a task, or a task
    under a perturbation: never one for the other): key -> judged rows."""
    baselines = {r.key: r for r in load(baseline)}
    clean = {r.key: r for r in candidates if not r.perturbation}
    report: Report = {}
    for result in candidates:
        if result.key not in baselines:
            raise Unpaired(f"--baseline {baseline}: no result {result.key} ({result.key}.json)")
        pair = (baselines[result.task], clean[result.task]) if result.perturbation and result.task in baselines and result.task in clean else None
        report[result.key] = check_task(baselines[result.key], result, tol, pair)
    if not report:
        raise Unpaired("nothing to check: no candidate result")
    return measured(report, tol.metrics)


def baseline_perturbations(baseline: Path) -> dict[str, PerturbationSpec]:
    """The perturbations of the baseline's perturbed results, by result key, parsed from their
    recorded keys. One recorded with another version of the perturbation, or of a library its
    output depends on, is refused: the candidate would see other noisy queries."""
    specs = {}
    for result in load(baseline):
        record = result.perturbation
        if not record:
            continue
        spec, difference = against_installed(record, f"--baseline {result.path}")
        if difference and difference[0] == "version":
            raise UsageError(f"--baseline {result.path}: perturbation {spec.name} is version {difference[1]} there, "
                             f"{difference[2]} here; re-run the baseline with this xbench")
        if difference:
            name, there, here = difference
            raise UsageError(f"--baseline {result.path}: perturbation {spec.key} was made with {name} {there}, "
                             f"here it is {here}; re-run the baseline with this xbench")
        specs[result.key] = spec
    return specs


def failed(report: Report) -> bool:
    """Whether any setting or aggregate of any task regressed: the check fails."""
    return any(r.status == "regression" for rows in report.values() for r in rows)


def publish(report: Report, tol: Tolerance, baseline: str, candidate: str, junit: Path | None = None) -> None:
    """Write the JUnit XML (when asked) and append to the GitHub job summary (when running there)."""
    if junit:
        write_junit(junit, report, tol)
    append_github_summary(markdown_summary(report, tol, baseline, candidate))
