"""What more than one command shares: the evaluation options of ``run`` and ``check``, the check
that option values are text, and the ``xbench run`` line that reproduces a result."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import click

from benchmark.errors import UsageError, XbenchError


def _split_langs(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...] | None:
    langs = tuple(x.strip() for v in value for x in v.split(",") if x.strip())
    if value and not langs:  # `--langs ""` or `--langs ,` is a mistake, not "every language"
        raise click.BadParameter("no language code given", param_hint="--langs")
    return langs or None


def _split_metrics(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """``--metrics``: names comma-separated or repeated, first mention kept; each checked against
    the metrics xbench computes (ranx's cutoff families with k), a bad one a usage error (exit 2)."""
    from benchmark.metrics import metric_spec

    names = tuple(dict.fromkeys(x.strip() for v in value for x in v.split(",") if x.strip()))
    if value and not names:
        raise UsageError("--metrics: no metric name given")
    for name in names:
        try:
            metric_spec(name)
        except XbenchError as exc:
            raise UsageError(f"--metrics: {exc}") from None
    return names


def _split_perturbations(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple:
    """``--perturb`` specs (comma-separated or repeated) and ``--suite`` names, parsed and checked
    now, so a typo fails before any model loads; the same perturbation twice is run once."""
    from benchmark.perturb import parse_perturbation, suite

    option = max(param.opts, key=len)
    if param.name == "suites":
        return tuple(spec for v in value for name in v.split(",") if name.strip() for spec in suite(name.strip(), option))
    return tuple(parse_perturbation(x, option) for v in value for x in v.split(",") if x.strip())


def _options(*decorators: Callable) -> Callable:
    """Apply click options in the order written (click applies the bottom one first)."""

    def apply(func: Callable) -> Callable:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


# what `run` and `check` both take: which tasks and data, and how to build the encoder
evaluation_options = _options(
    click.option("--task", "-t", "tasks", multiple=True, help="Task name or definition file (repeatable). Default: every registered task."),
    click.option("--langs", multiple=True, callback=_split_langs, help="Only these languages, comma-separated (repeatable)."),
    click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=f"Data root(s), several separated by {os.pathsep!r}, each searched itself and in the task's data folder "
                 "(e.g. ../shared/data serves every task); else $XBENCH_DATA, read the same way; else the user cache."),
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Embedding cache (else $XBENCH_CACHE, else the user cache)."),
    click.option("--metrics", multiple=True, callback=_split_metrics, help="Metrics to compute besides the task's, comma-separated (repeatable): "
                 "ranx cutoff metrics FAMILY@K (ndcg, recall, mrr, map, precision, hit_rate, f1, ndcg_burges), or accuracy. E.g. map@10,recall@50."),
    click.option("--candidate-text", type=click.Choice(["sentence", "sentence+context"]), default=None, help="Candidate text (default: the task's, 'sentence')."),
    click.option("--query-prompt", default="", help='Text put before every query, e.g. "query: ".'),
    click.option("--passage-prompt", default="", help='Text put before every candidate, e.g. "passage: ".'),
    click.option("--batch-size", type=click.IntRange(min=1, max=1 << 16), default=32, show_default=True, help="Encoder batch size."),
    click.option("--max-length", type=click.IntRange(min=1, max=1 << 20), default=None, help="Truncate inputs to this many tokens."),
    click.option("--normalize/--no-normalize", default=None, help="Cosine (normalise) or raw dot product. Default: what the model declares, else cosine."),
    click.option("--pooling", type=click.Choice(["mean", "cls"]), default=None, help="Pooling of a plain transformers checkpoint (default mean)."),
    click.option("--device", default=None, help="Encoder device, e.g. cpu or cuda:0. Default: automatic."),
    click.option("--api-base", default=None, help="Base URL of an OpenAI-compatible embedding API (--model openai:NAME); else $OPENAI_BASE_URL."),
    click.option("--allow-modified-data", is_flag=True, help="Evaluate data whose checksums differ; the result is marked unofficial."),
    click.option("--perturb", "perturbations", multiple=True, callback=_split_perturbations,
                 help="Also run with the queries perturbed (repeatable), NAME or NAME@LEVEL: typo@0.05, nodiacritics, romanize, "
                      "punctuation@0.5, distractor. Each writes <task>~<perturbation>.json beside the clean <task>.json."),
    click.option("--suite", "suites", multiple=True, callback=_split_perturbations,
                 help="Run a named set of perturbations: 'robustness' (typo@0.05, typo@0.1, nodiacritics, romanize, punctuation@0.5, distractor)."),
    click.option("--memory-budget", type=click.IntRange(min=16, max=1 << 30), default=256, show_default=True,
                 help="MiB for scoring: half for a shard of candidates, half for a block of its scores. Results do not depend on it."),
    click.option("--shard-size", type=click.IntRange(min=1), default=None,
                 help="Candidate columns per shard (default: what half the memory budget holds). Results do not depend on it."),
    click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                 help="Where encoding and search run: this process, or a Ray cluster (pip install 'xbench[ray]')."),
    click.option("--ray-address", default=None, metavar="ADDR",
                 help="With --engine ray: 'auto', host:port or ray://host:port of a running cluster. Default: start a local one."),
    click.option("--workers", type=click.IntRange(min=1, max=4096), default=None,
                 help="With --engine ray: encoding actors and parallel search tasks (default: the cluster's CPUs, or GPUs)."),
    click.option("--quiet", "-q", is_flag=True, help="No progress bars, no tables."),
)


def check_text(**values: Any) -> None:
    """Refuse option values that are not text: bytes that are not UTF-8 in argv arrive as lone surrogates."""
    for name, value in values.items():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise UsageError(f"--{name.replace('_', '-')}: not valid UTF-8 text") from None


# options that change the numbers, and so belong in the command that reproduces a result
NUMERIC_OPTIONS = ("model", "tasks", "langs", "metrics", "candidate_text", "query_prompt", "passage_prompt", "max_length", "normalize",
                   "pooling", "api_base", "allow_modified_data", "sample", "seed")


def reproduce(ctx: click.Context) -> str:
    """The ``xbench run`` line that reproduces the numbers: options that change them, credentials removed."""
    import shlex

    from benchmark.encoders.endpoint import public_url

    words = ["xbench", "run"]
    for param in ctx.command.params:
        if param.name not in NUMERIC_OPTIONS:
            continue
        value = ctx.params.get(param.name)
        if ctx.get_parameter_source(param.name) == click.core.ParameterSource.DEFAULT or value in (None, (), ""):
            continue
        flag = max(param.opts, key=len)
        if param.name in ("langs", "metrics"):
            words += [flag, ",".join(value)]
        elif isinstance(value, tuple):
            for item in value:
                words += [flag, item]
        elif isinstance(value, bool):
            words.append(flag if value or not param.secondary_opts else param.secondary_opts[0])
        elif param.name == "api_base":  # never a password or key from the URL: this line goes on the board
            words += [flag, public_url(str(value))]
        else:
            words += [flag, str(value)]
    return shlex.join(words)



def _compared_metrics(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """``--metric`` of compare and check: names, comma-separated or repeated, each one xbench knows."""
    from benchmark.errors import XbenchError
    from benchmark.metrics import metric_spec

    names = tuple(dict.fromkeys(x.strip() for v in value for x in v.split(",") if x.strip()))
    if value and not names:
        raise click.BadParameter("no metric name given", param_hint="--metric")
    for name in names:
        try:
            metric_spec(name)
        except XbenchError as exc:
            raise click.BadParameter(str(exc), param_hint="--metric") from None
    return names


# which metrics `compare` and `check` test: accuracy is tested by McNemar's exact test, the others by --test
compared_metric_option = click.option(
    "--metric", "compared", multiple=True, callback=_compared_metrics,
    help="Test only these metrics, comma-separated (repeatable), e.g. accuracy or map,ndcg@10 "
         "(--metrics, on check --model, computes extra ones; this chooses what is tested). "
         "Default: accuracy and mAP where the results have them, and the rank distance. "
         "Binary ones (accuracy, hit_rate@k) get McNemar's exact test, the others --test.")
