"""``xbench verify``: re-run a seeded sample of a submission's settings and compare query by query."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click


@click.command("verify")
@click.argument("submission", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--sample", type=click.IntRange(min=1), default=3, show_default=True, help="Settings to re-run, drawn from all tasks (more than there are: all).")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=None, help="Seed of the draw. Default: a fresh random one, printed and recorded.")
@click.option("--model", "-m", "model", default=None, help="Load the model from here (a local directory, hub name or module:attr) instead of the recorded name; its identity must still match.")
@click.option("--task", "-t", "tasks", multiple=True, help="Definition file of a task that is not registered (repeatable).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Data root (else $XBENCH_DATA, else the user cache).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Embedding cache (else $XBENCH_CACHE, else the user cache).")
@click.option("--api-base", default=None, help="Base URL of the embedding API, for an openai:NAME model (required for one; its recorded endpoint must match).")
@click.option("--device", default=None, help="Encoder device, e.g. cpu or cuda:0. Default: automatic.")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True, help="Encoder batch size.")
@click.option("--json", "as_json", is_flag=True, help="Print the verification as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars; only the verdict.")
def verify_command(submission: Path, sample: int, seed: int | None, model: str | None, tasks: tuple[str, ...], data_dir: Path | None,
                   cache_dir: Path | None, api_base: str | None, device: str | None, batch_size: int, as_json: bool, quiet: bool) -> None:
    """Re-run a random sample of a submission's settings and compare each query's AP with it.

    \b
    SUBMISSION is a board submission (leaderboard/submissions/<key>/) or an `xbench run` output
    folder. The model is loaded from its recorded identity: the registered name or local
    directory or Hugging Face cache entry whose fingerprint, revision and weights SHA-256 are the
    recorded ones (the hub is never contacted). The recorded prompts, normalisation, candidate
    text, max length and pooling are applied again. Each sampled setting is re-run on its language
    pair only (a multilingual-pool setting needs every language: the slowest draw); settings are
    drawn with a chance proportional to their weight in the board's average. Every sampled query's
    AP, rank distance and cutoff metrics must agree with the submitted ones to 1e-4. Perturbed
    results (<task>~<perturbation>.json) are re-run too: their settings, all together drawn as
    often as one kind of a task, are re-run with the queries perturbed again by the recorded
    perturbation, which this xbench must have at the recorded version (and library versions).

    \b
    Exit 0: verified; on a board, verification.json is written into the submission folder (the
    board then marks the row verified; rebuild it with `xbench leaderboard`). Exit 1: the re-run
    disagrees (the settings and queries are named) or the submission is broken. Exit 2: bad usage,
    or the model cannot be loaded here ("cannot load the model ..."): nothing was checked.

    \b
    Examples:
      xbench verify leaderboard/submissions/ngram-hash-3-512__0e42a98ee57c
      xbench verify results/minilm --sample 10 --seed 7 --json
      xbench verify leaderboard/submissions/openai_e5-_role__ec20099ebdfd --api-base http://127.0.0.1:8765/v1
    """
    from benchmark.leaderboard.verify import VerifyOptions, record, verify
    from benchmark.leaderboard.verify_views import verdict, verify_table

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a hub model counts only as found in the local cache
    options = VerifyOptions(sample=sample, seed=seed, model=model, tasks=tasks, data_dir=data_dir, cache_dir=cache_dir,
                            api_base=api_base, device=device, batch_size=batch_size, quiet=quiet)
    outcome = verify(submission, options, log=(lambda m: None) if quiet else (lambda m: click.echo(m, err=True)))
    recorded = record(outcome) if outcome.agrees and outcome.submission.on_board else None
    report = dict(outcome.to_dict(), recorded=str(recorded) if recorded else None)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        if not quiet:
            click.echo(verify_table(outcome))
        click.echo(verdict(report))
    sys.exit(0 if outcome.agrees else 1)
