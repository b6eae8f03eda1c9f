"""``xbench compare``: two results side by side, setting by setting, with significance."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .options import compared_metric_option


@click.command("compare")
@click.argument("a", type=click.Path(exists=True, path_type=Path))
@click.argument("b", type=click.Path(exists=True, path_type=Path))
@click.option("--task", default=None, help="Only this task and its perturbed runs (when A and B are folders).")
@click.option("--test", type=click.Choice(["student", "fisher"]), default="student", show_default=True,
              help="Paired test on continuous per-query values (AP...): Student's t or Fisher's randomisation. Accuracy always gets McNemar's exact test.")
@compared_metric_option
@click.option("--alpha", type=click.FloatRange(0, 1), default=0.05, show_default=True, help="Significance level, after Holm's correction.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def compare_command(a: Path, b: Path, task: str | None, test: str, compared: tuple[str, ...], alpha: float, as_json: bool) -> None:
    """Compare two results (files or run folders) setting by setting, with significance.

    \b
    Each row: a setting or aggregate and a metric (accuracy and mAP where the task has them, the
    rank distance; or --metric), B - A, and the paired test's p-value on the per-query values,
    Holm-corrected over all rows of the task (* marks p_holm <= alpha). The test is named per row:
    mcnemar-exact for accuracy (0/1 per query: McNemar's exact test on the queries only one side
    gets right), --test (student or fisher) for the others. In a folder, a JSON file is a result when its
    <task>.per_query.csv.gz lies beside it or it holds a schema_version; other JSON files (notes,
    configs) are skipped. A malformed result is refused (exit 1). Results pair by name: a task's
    clean result with the clean one, <task>~<perturbation> with the same perturbation's.

    \b
    Examples:
      xbench compare results/minilm results/e5
      xbench compare results/minilm/xquad-r.json results/e5/xquad-r.json --test fisher
      xbench compare results/minilm results/e5 --task tatoeba --metric accuracy
    """
    from benchmark.regression.compare import compare_task, load, measured
    from benchmark.regression.views import compare_view

    left = {r.key: r for r in load(a, task)}  # by key: a perturbed run pairs only with the same perturbation's
    right = {r.key: r for r in load(b, task)}
    common = [t for t in left if t in right]
    if not common:
        raise click.UsageError(f"{a} and {b} share no result (task, or task under a perturbation)")
    report = measured({t: compare_task(left[t], right[t], test=test, metrics=compared or None) for t in common}, compared)
    if as_json:
        click.echo(json.dumps({t: [r.to_dict() for r in rows] for t, rows in report.items()}, indent=2))
        return
    for t, rows in report.items():
        click.echo(compare_view(t, left[t].model.name, right[t].model.name, rows, alpha))
