"""Re-running settings of a recorded result (for ``xbench verify``): the recorded model, options and data.

A model is found from its recorded identity only: the recorded command's ``--model``, the
recorded name, or a registered encoder, whichever loads with the recorded fingerprint, revision
and weights. A Python callable or an API model is never reached from what a submission says
alone: the first is imported only when named with ``--model``, the second is called only at the
``--api-base`` the user gives.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from benchmark.engine.settings import Setting
from benchmark.errors import UsageError, XbenchError
from benchmark.results import RecordedModel, TaskResult


@dataclass(frozen=True)
class Pick:
    """One sampled setting of one result: ``task`` is the result's key (a task, or
    ``<task>~<perturbation>`` for a perturbed run)."""

    task: str
    setting: Setting

    @property
    def label(self) -> str:
        return f"{self.task} {self.setting.label}"




def _command_words(command: Any) -> list[str]:
    try:
        return shlex.split(command) if isinstance(command, str) else []
    except ValueError:
        return []


def _flag_value(words: list[str], *flags: str) -> str | None:
    """The value of the last ``--flag VALUE`` or ``--flag=VALUE`` in a recorded command."""
    value = None
    for i, word in enumerate(words):
        for flag in flags:
            if word == flag and i + 1 < len(words):
                value = words[i + 1]
            elif word.startswith(flag + "="):
                value = word[len(flag) + 1 :]
    return value


def recorded_options(result: TaskResult, api_base: str | None, device: str | None, batch_size: int) -> Any:
    """The encoder options that change numbers, as the result records them."""
    from benchmark.encoders import EncoderOptions

    model = result.model
    max_length = model.get("max_length") if "max_length" in model.identity else _flag_value(_command_words(result.command), "--max-length")
    return EncoderOptions(
        query_prompt=str(model.get("query_prompt") or ""),
        passage_prompt=str(model.get("passage_prompt") or ""),
        batch_size=batch_size,
        max_length=int(max_length) if max_length not in (None, "") else None,
        normalize=model.get("normalized") if isinstance(model.get("normalized"), bool) else None,
        device=device,
        pooling=model.get("pooling"),
        api_base=api_base,
    )


def _candidate_specs(model: RecordedModel, command: str | None) -> list[str]:
    """What to try as ``--model``: the recorded command's, the recorded name, every registered name."""
    from benchmark.retrievers import MODELS

    specs = [_flag_value(_command_words(command), "--model", "-m"), model.name, *MODELS.names()]
    return list(dict.fromkeys(s for s in specs if isinstance(s, str) and s))


def identity_mismatch(recorded: Mapping[str, Any], loaded: Mapping[str, Any]) -> str | None:
    """Why ``loaded`` is not the recorded model, or None when fingerprint, revision and weights agree."""
    for key in ("endpoint", "fingerprint", "revision", "weights_sha256"):
        if recorded.get(key) is not None and loaded.get(key) != recorded[key]:
            width = None if key == "endpoint" else 16
            return f"its {key} {str(loaded.get(key))[:width]} differs from the recorded {str(recorded[key])[:width]}"
    return None


def load_recorded_model(result: TaskResult, where: Path, options: Any, override: str | None = None) -> Any:
    """The model whose identity is the one recorded in ``result``, or UsageError (exit 2).

    A Python callable (``module:attr``) or an API model is never reached from what a submission
    says alone: the first is imported only when named with ``--model``, the second is called only
    at the ``--api-base`` the user gives.
    """
    from benchmark.retrievers import load_model

    model = result.model
    name = model.name

    def refuse(why: str) -> UsageError:
        return UsageError(f"cannot load the model {name} recorded in {where}: {why}")

    if model.kind == "openai-api" and not options.api_base:
        raise refuse(f"an API model needs --api-base (it was run against {model.get('endpoint')})")
    if override:
        specs = [override]
    elif model.kind == "openai-api":
        specs = [str(name)]
    elif model.kind == "callable":
        raise refuse("a Python callable is imported only when named with --model")
    else:
        specs = _candidate_specs(model, result.command)
    reasons = []
    for spec in specs:
        try:
            loaded = load_model(spec, options)
            mismatch = identity_mismatch(model.identity, loaded.identity().to_dict())
        except XbenchError as exc:
            reasons.append(f"{spec}: {exc}")
            continue
        if mismatch is None:
            return loaded
        reasons.append(f"{spec}: {mismatch}")
    raise refuse("; ".join(reasons) or "nothing to try")




@dataclass
class VerifyOptions:
    sample: int = 3
    seed: int | None = None
    model: str | None = None  # load from here instead of the recorded name (identity must match)
    tasks: tuple[str, ...] = ()  # definition files of unregistered tasks
    data_dir: Path | None = None
    cache_dir: Path | None = None
    api_base: str | None = None
    device: str | None = None
    batch_size: int = 32
    quiet: bool = True


def _definition(name: str, extra: tuple[str, ...]) -> Any:
    """The task named in a result: one of the definition files given, else a registered task."""
    from benchmark.engine.taskregistry import get_task

    given = {d.name: d for d in (get_task(t) for t in extra)}
    return given.get(name) or get_task(name)


def rerun_languages(task: TaskResult, picks: list[Pick], definition: Any) -> tuple[str, ...]:
    """The languages a re-run of ``picks`` needs: each pair's two, or every one for a pool; in a
    pivot task (Tatoeba) the language paired with the pivot, whose run makes both directions (the
    pivot is no language of the task, and the task's own symmetric roles come with the definition)."""
    needed = set()
    for pick in picks:
        s = pick.setting
        if definition.pivot is not None:
            wanted = {s.partner(definition.pivot)}
        else:
            wanted = set(task.languages) if s.kind == "multi" else {s.query_lang, s.corpus_lang}
        if not wanted <= set(definition.languages):
            raise XbenchError(f"{task.path}: setting {pick.label} names a language task {definition.name} does not have")
        needed |= wanted
    return tuple(lang for lang in definition.languages if lang in needed)


def recorded_perturbation(task: TaskResult) -> Any:
    """The perturbation a perturbed result was run under, as this xbench has it; None for a clean
    result. Refused (UsageError: nothing can be checked) when this xbench lacks it or has another
    version of it, or of a library its output depends on: the re-run's queries would differ."""
    from benchmark.perturb import against_installed

    record = task.perturbation
    if record is None:
        return None
    try:
        spec, difference = against_installed(record, "perturbation.key")
    except UsageError as exc:
        raise UsageError(f"cannot verify {task.path}: {exc}") from None
    if difference and difference[0] == "version":
        raise UsageError(f"cannot verify {task.path}: perturbation {spec.name} is version {difference[2]} here, the result's is {difference[1]}")
    if difference:
        name, recorded, here = difference
        raise UsageError(f"cannot verify {task.path}: perturbation {spec.key} was made with {name} {recorded}, here it is {here}")
    return spec


def rerun(task: TaskResult, picks: list[Pick], options: VerifyOptions, log: Callable[[str], None]) -> TaskResult:
    """Re-evaluate the settings of ``picks`` of one result, with its recorded model and options
    (and, for a perturbed result, its recorded perturbation)."""
    from benchmark.engine.runner import RunConfig, evaluate_variants

    definition = _definition(task.task, options.tasks)
    if task.task_version != definition.version:
        raise UsageError(f"cannot verify {task.path}: task {definition.name} is version {definition.version} here, the result is of {task.task_version}")
    spec = recorded_perturbation(task)
    langs = rerun_languages(task, picks, definition)
    encoder_options = recorded_options(task, options.api_base, options.device, options.batch_size)
    retriever = load_recorded_model(task, task.path, encoder_options, options.model)
    config = RunConfig(langs=langs, data_dir=options.data_dir, cache_dir=options.cache_dir, candidate_text=task.candidate_text,
                       allow_modified_data=not task.data.official, quiet=options.quiet, metrics=tuple(task.definition["metrics"]),
                       perturbations=(spec,) if spec else ())
    log(f"== {task.key}: re-running {len(picks)} setting(s) on {','.join(langs)} with {retriever.name}")
    fresh = evaluate_variants(definition, retriever, encoder_options, config)[-1]  # the perturbed run when there is one
    recorded = task.data.checksums
    for name, digest in fresh.data.checksums.items():
        if recorded.get(name) != digest:
            raise UsageError(f"cannot verify {task.path}: the data file {name} here is not the one the result was made on")
    return fresh


