"""``xbench submit``: validate a run's results and add them to the leaderboard."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("submit")
@click.argument("result_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--board", type=click.Path(file_okay=False, path_type=Path), default=Path("leaderboard"), show_default=True, help="Leaderboard folder.")
@click.option("--replace", is_flag=True, help="Supersede this (model, revision) if already on the board; the old one moves to history/.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Canonical data, to check every setting's query ids (else $XBENCH_DATA).")
def submit_command(result_dir: Path, board: Path, replace: bool, data_dir: Path | None) -> None:
    """Validate the results in RESULT_DIR and add them to the leaderboard.

    \b
    RESULT_DIR is the --output folder of `xbench run` over the full xquad-r and mlqa-r tasks,
    which rank the board; a full tatoeba result beside them is validated too and shown in the
    board's Tatoeba columns (it does not change the order). Perturbed runs beside them
    (<task>~<perturbation>.json, from --perturb or --suite robustness) are validated as well, and
    each must be its clean result's run with only the queries perturbed (same model, data, task
    version, languages, queries) by a perturbation this xbench has at the same version; they
    are shown in the board's robustness view and never ranked.
    Refused (exit 1, board untouched): another schema version, missing settings, data that is not
    the canonical data, aggregates or mAPs that do not recompute from the per-setting and
    per-query values, values out of range, missing model identity, a (model, revision) that is
    already on the board (unless --replace); a perturbed run that does not pair with its clean run.

    \b
    Examples:
      xbench run --model sentence-transformers/all-MiniLM-L6-v2 --output results/minilm
      xbench submit results/minilm
      xbench submit results/minilm --replace --board leaderboard
    """
    from benchmark.leaderboard.store import submit as submit_results
    from benchmark.leaderboard.views import VIEW_FILES, views

    target = submit_results(result_dir, board, views, replace=replace, data_dir=data_dir)
    click.echo(f"added {target}; rebuilt {', '.join(str(board / name) for name in VIEW_FILES)}")
