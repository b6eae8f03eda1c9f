"""``xbench run`` (and the evaluation half of ``xbench check --model``) as one library call.

Every option that can be checked is checked before the model is loaded and before any text is
encoded, so a typo costs nothing: the API base URL, that the output folder can be written and that
no result file there is a folder, and (for a model that keeps embeddings) that the embedding cache
can be written. Then each task is evaluated and its result files written at once, so that an
interrupted run keeps the tasks already done.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from benchmark.encoders import EncoderOptions
from benchmark.encoders.endpoint import parse_endpoint
from benchmark.engine.cache import CACHE_ENV, EmbeddingCache
from benchmark.engine.runner import RunConfig, evaluate_variants
from benchmark.engine.taskdef import TaskDefinition
from benchmark.errors import UsageError, XbenchError
from benchmark.fsutil import check_writable
from benchmark.results import TaskResult
from benchmark.retrievers import load_model
from benchmark.results.schema import PER_QUERY_SUFFIX


def _nothing(*_args: Any) -> None:
    return None


def run_model(
    model: str,
    definitions: list[TaskDefinition],
    options: EncoderOptions,
    config: RunConfig,
    out_dir: Path,
    *,
    output_option: str = "--output",
    command: str = "",
    on_start: Callable[[TaskDefinition], None] = _nothing,
    on_written: Callable[[TaskResult], None] = _nothing,
) -> list[TaskResult]:
    """Evaluate ``model`` on ``definitions`` and write each result into ``out_dir``.

    ``output_option`` names the output folder in a refusal, ``command`` is recorded in each result
    as the line that reproduces it. ``on_start`` is called before each task and ``on_written``
    after its files are written (the command line reports progress through them). Returns the
    results as written, in memory, for a caller that goes on with them (``xbench check``).
    """
    if options.api_base is not None:
        parse_endpoint(options.api_base, "--api-base")
    check_writable(out_dir, output_option)
    stems = [d.name for d in definitions] + [f"{d.name}~{p.key}" for d in definitions for p in config.perturbations]
    for name in (f"{stem}{suffix}" for stem in stems for suffix in (".json", PER_QUERY_SUFFIX)):
        if (out_dir / name).is_dir():
            raise UsageError(f"--output {out_dir}: {name} there is a folder; the result file cannot replace it")
    retriever = load_model(model, options)
    if retriever.uses_cache:
        source = "--cache-dir" if config.cache_dir else f"${CACHE_ENV}" if os.environ.get(CACHE_ENV) else "the embedding cache (set --cache-dir)"
        check_writable(EmbeddingCache(config.cache_dir).root, source)
    written: list[TaskResult] = []

    def write(result: TaskResult) -> None:
        perturbation = result.perturbation
        result = result.with_command(f"{command} --perturb {perturbation['key']}" if perturbation and command else command)
        try:
            result.to_dir(out_dir)
        except OSError as exc:
            raise XbenchError(f"--output {out_dir}: cannot write the result ({exc.strerror or exc})") from None
        written.append(result)
        on_written(result)

    for definition in definitions:
        on_start(definition)
        evaluate_variants(definition, retriever, options, config, on_result=write)
    return written
