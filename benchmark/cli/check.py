"""``xbench check``: fail (exit 1) when a checkpoint is significantly worse than a baseline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .options import compared_metric_option, evaluation_options
from .run import evaluate


@click.command("check")
@click.option("--baseline", "-b", type=click.Path(exists=True, path_type=Path), required=True, help="Baseline result folder (from xbench run) or result file.")
@click.option("--model", "-m", "model", default=None, help="Checkpoint to evaluate (anything --model of xbench run takes).")
@click.option("--candidate", "-c", type=click.Path(exists=True, path_type=Path), default=None, help="Compare this existing result folder instead of evaluating a model.")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=None, help="Where the checkpoint's results go. Default: results/<model>.")
@evaluation_options
@click.option("--sample", type=click.IntRange(min=1), default=None, help="Fast mode: only this many question ids (with all their translations), drawn with --seed.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --sample draw.")
@click.option("--max-drop", type=click.FloatRange(min=0), default=0.01, show_default=True, help="Drop (absolute) of mAP, accuracy or another score tolerated before a significant drop fails.")
@click.option("--max-rank-distance-increase", type=click.FloatRange(min=0), default=10.0, show_default=True, help="Rank-distance rise tolerated before a significant rise fails.")
@click.option("--alpha", type=click.FloatRange(0, 1), default=0.05, show_default=True, help="Significance level after Holm's correction over all checked settings.")
@click.option("--test", type=click.Choice(["student", "fisher"]), default="student", show_default=True,
              help="Paired test on continuous per-query values (AP...): Student's t or Fisher's randomisation (1000 permutations, seed 42). "
                   "Accuracy always gets McNemar's exact test.")
@compared_metric_option
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write JUnit XML: one test case per setting and metric, regressions as failures.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report on stdout.")
def check_command(baseline: Path, model: str | None, candidate: Path | None, output: Path | None, sample: int | None, seed: int,
                  max_drop: float, max_rank_distance_increase: float, alpha: float, test: str, compared: tuple[str, ...], junit: Path | None, as_json: bool,
                  **params: Any) -> None:
    """Fail (exit 1) when a checkpoint is significantly worse than a baseline.

    A setting regresses when its mAP (or accuracy) drops by more than --max-drop and the drop is
    significant (paired test on the per-query values, Holm-corrected over every setting, aggregate
    and metric checked); Mono, Cross, Multi and rank distance are checked the same way. Accuracy,
    0 or 1 per query, is tested by McNemar's exact test (mcnemar-exact); mAP and the others by
    --test. --metric chooses the metrics (default: accuracy and mAP where the task has them, and
    the rank distance).

    \b
    Robustness: a perturbed result (<task>~<perturbation>.json, from xbench run --perturb) is
    checked against the baseline's result of the same perturbation, and, when both sides also
    hold the clean <task>.json, on its drop: per query, clean AP - perturbed AP, the candidate's
    against the baseline's, per setting kind. A drop that grows by more than --max-drop,
    significantly (Holm-corrected with the perturbed result's other rows), fails the check.
    With --model, the perturbations the baseline holds are run too (their recorded version must
    be the installed one).

    \b
    Exit 0: pass; 1: regression;
    2: bad usage or incomparable inputs (other task, data, candidate text, or missing settings).
    With GITHUB_STEP_SUMMARY set, a Markdown summary is appended to it.

    \b
    Fast mode for pull requests: --sample N and/or --langs check a subset. With --sample the pools
    stay whole, so every sampled query scores as in a full run (up to float rounding of near-tied
    scores) and is compared with the baseline's same query; what you give up is power: fewer queries detect only larger drops.
    With --langs, languages and pairs left out are not checked at all, and neither is the
    multilingual pool (a smaller pool ranks differently from the baseline's).

    \b
    Examples:
      xbench run --model ./ckpt-1000 --output baseline/
      xbench check --model ./ckpt-2000 --baseline baseline/ --junit check.xml
      xbench check --model ./ckpt-2000 --baseline baseline/ --langs en,de,zh --sample 300
      xbench check --candidate results/new --baseline baseline/ --test fisher
      xbench check --model ./ckpt-2000 --baseline baseline/ --task tatoeba --metric accuracy
      xbench run --model ./ckpt-1000 --task xquad-r --suite robustness --output baseline/
      xbench check --model ./ckpt-2000 --baseline baseline/ --task xquad-r
    """
    from benchmark.regression.check import Tolerance, report_json
    from benchmark.regression.gate import Unpaired, baseline_perturbations, failed, judge_candidates, load_candidates, publish
    from benchmark.regression.views import check_view

    if (model is None) == (candidate is None):
        raise click.UsageError("give exactly one of --model (evaluate a checkpoint) or --candidate (an existing result)")
    tol = Tolerance(max_drop, max_rank_distance_increase, alpha, test, compared)
    if model is not None:
        held = baseline_perturbations(baseline)  # run what the baseline holds: <task>~<perturbation> is checked too
        asked = {spec.key for spec in (*params["suites"], *params["perturbations"])}
        params = dict(params, perturbations=tuple(dict.fromkeys([*params["perturbations"], *held.values()])), as_json=as_json)
        candidates = evaluate(model, output, params, sample=sample, seed=seed)
        # a perturbation run for the baseline's sake on a task whose baseline lacks it: written, not checked
        candidates = [c for c in candidates if not c.perturbation or c.key in held or c.perturbation["key"] in asked]
    else:
        candidates = load_candidates(candidate, params["tasks"])
    try:
        report = judge_candidates(candidates, baseline, tol)
    except Unpaired as exc:  # bad usage of this command: said with a pointer to its --help
        raise click.UsageError(str(exc)) from None
    publish(report, tol, str(baseline), model or str(candidate), junit)
    regressed = failed(report)
    click.echo(report_json(report) if as_json else check_view(report, regressed))
    sys.exit(1 if regressed else 0)
