"""``xbench verify``: re-run a random sample of a submission's settings and compare per-query AP.

Why it exists: every number in a result is self-reported. ``submit`` checks that the numbers are
consistent (aggregates recompute from per-query values, whose file the JSON pins by SHA-256), not
that they are true; a submitter who edits per-query AP and recomputes everything above it passes.
Only re-running the model can catch that, and re-running everything costs as much as the
submission did. So verify loads the model from its recorded identity (refusing when the model at
hand is not the one recorded), draws a few settings at random, re-evaluates them on one language
pair's data (a multilingual-pool setting needs every language of the result) and compares each
query's AP, and every other per-query value, with the submitted one.

The draw gives each setting a chance proportional to its weight in the board's average (a mono or
multi setting weighs as much as ten cross settings), so wherever a forger puts a given amount of
score, it is as likely to be drawn. The seed is random unless given, and always recorded: a seed
derived from the submission could be ground by a forger until the draw misses the forged settings;
a recorded seed still lets anyone repeat the exact check with ``--seed``.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark import __version__
from benchmark.errors import UsageError, XbenchError
from benchmark.fsutil import atomic_write_text
from benchmark.regression.compare import claims_to_be_result
from benchmark.results.schema import cutoff_metrics
from benchmark.results.files import PER_QUERY_SUFFIX, read_per_query, read_result, setting_rows
from .validate import check_recomputes

TOLERANCE = 1e-4  # largest |difference| of a per-query value that still agrees (honest re-runs agree exactly)
SHOWN = 5  # query ids named per disagreeing setting
VERIFICATION_FILE = "verification.json"
SUBMISSION_FILE = "submission.json"
KEY_COLUMNS = ("kind", "query_lang", "corpus_lang", "query_id")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class TaskResult:
    """One ``<task>.json`` of the submission and its per-query table."""

    path: Path
    result: dict[str, Any]
    per_query: pd.DataFrame


@dataclass
class Submission:
    folder: Path
    tasks: dict[str, TaskResult]  # by task name, sorted

    @property
    def on_board(self) -> bool:
        """A board's submission folder (``submit`` wrote submission.json into it)."""
        return (self.folder / SUBMISSION_FILE).is_file()

    @property
    def model(self) -> dict[str, Any]:
        return next(iter(self.tasks.values())).result["model"]


@dataclass(frozen=True)
class Pick:
    """One sampled setting."""

    task: str
    kind: str
    query_lang: str
    corpus_lang: str

    @property
    def label(self) -> str:
        return f"{self.task} {self.kind} {self.query_lang}->{self.corpus_lang}"

    def record(self) -> dict[str, str]:
        return {"kind": self.kind, "query_lang": self.query_lang, "corpus_lang": self.corpus_lang}


@dataclass
class SettingCheck:
    """The comparison of one sampled setting: each submitted per-query value against the re-run's."""

    pick: Pick
    compared: int
    max_abs_diff: dict[str, float]  # per value column ("ap" first); inf where one side is NaN
    differing: list[str] = field(default_factory=list)  # query ids with a value off by more than TOLERANCE
    missing: list[str] = field(default_factory=list)  # submitted queries the re-run does not have
    unexpected: list[str] = field(default_factory=list)  # re-run queries the submission lacks

    @property
    def agrees(self) -> bool:
        return not (self.differing or self.missing or self.unexpected)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.pick.task, **self.pick.record(), "queries": self.compared, "max_abs_diff": _finite(self.max_abs_diff),
            "differing": len(self.differing), "missing": len(self.missing), "unexpected": len(self.unexpected),
            "examples": (self.differing + self.missing + self.unexpected)[:SHOWN], "agrees": self.agrees,
        }


def _finite(values: dict[str, float]) -> dict[str, float | None]:
    """JSON has no infinity: a value that could not be compared (NaN on one side) becomes null."""
    return {k: v if math.isfinite(v) else None for k, v in values.items()}


def _fail(path: Path, message: str) -> XbenchError:
    return XbenchError(f"{path}: {message}")


def load_submission(folder: Path) -> Submission:
    """Every result in ``folder`` with its per-query table, checked for internal consistency."""
    folder = Path(folder)
    if not folder.is_dir():
        raise XbenchError(f"{folder}: not a folder (give a submission folder or an `xbench run` output folder)")
    tasks: dict[str, TaskResult] = {}
    for path in sorted(folder.glob("*.json")):
        if path.name in (SUBMISSION_FILE, VERIFICATION_FILE) or not claims_to_be_result(path):
            continue
        result = read_result(path)
        if not isinstance(result.get("per_query"), dict) or not isinstance(result.get("task"), str):
            raise _fail(path, "field 'per_query' or 'task' is missing or of the wrong type")
        if result["task"] in tasks:
            raise _fail(path, f"a second result for task {result['task']!r}")
        tasks[result["task"]] = TaskResult(path, result, read_per_query(path, result))
    if not tasks:
        raise XbenchError(f"{folder}: no result files (<task>.json with its {PER_QUERY_SUFFIX})")
    submission = Submission(folder, dict(sorted(tasks.items())))
    for task in submission.tasks.values():
        try:
            check_consistency(task)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _fail(task.path, f"malformed result ({type(exc).__name__}: {exc})") from None
    fingerprints = {t.result["model"].get("fingerprint") for t in submission.tasks.values()}
    if len(fingerprints) != 1:
        raise XbenchError(f"{folder}: the results come from different models (fingerprints differ)")
    return submission


def check_consistency(task: TaskResult) -> None:
    """The model's identity, then every aggregate from the per-query values (as ``submit`` checks
    them: :func:`validate.check_recomputes`).

    The re-run checks per-query values; this ties the numbers the board shows to them, so a file
    edited after ``submit`` cannot keep a verified mark with other headline numbers.
    """
    result, path = task.result, task.path
    if not result["model"].get("fingerprint"):
        raise _fail(path, "field 'model' has no fingerprint: the model's identity is unknown")
    check_recomputes(result, task.per_query, str(path), cutoff_metrics(result))


def draw_sample(submission: Submission, size: int, seed: int) -> tuple[list[Pick], int]:
    """``size`` settings of all tasks, drawn without replacement by board weight; also the total."""
    universe = [Pick(name, s["kind"], s["query_lang"], s["corpus_lang"]) for name, t in submission.tasks.items() for s in t.result["settings"]]
    per_stratum: dict[tuple[str, str], int] = {}
    for pick in universe:
        per_stratum[(pick.task, pick.kind)] = per_stratum.get((pick.task, pick.kind), 0) + 1
    weights = np.array([1.0 / per_stratum[(p.task, p.kind)] for p in universe])
    chosen = np.random.default_rng(seed).choice(len(universe), size=min(size, len(universe)), replace=False, p=weights / weights.sum())
    return [universe[i] for i in sorted(chosen.tolist())], len(universe)


def new_seed() -> int:
    return secrets.randbelow(2**32)


# ---------------------------------------------------------------------------------------------
# loading the recorded model


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


def recorded_options(result: dict[str, Any], api_base: str | None, device: str | None, batch_size: int):
    """The encoder options that change numbers, as the result records them."""
    from benchmark.encoders import EncoderOptions

    model = result["model"]
    max_length = model.get("max_length") if "max_length" in model else _flag_value(_command_words(result.get("command")), "--max-length")
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


def _candidate_specs(model: dict[str, Any], command: Any) -> list[str]:
    """What to try as ``--model``: the recorded command's, the recorded name, every registered name."""
    from benchmark.retrievers import MODELS

    specs = [_flag_value(_command_words(command), "--model", "-m"), model.get("name"), *MODELS.names()]
    return list(dict.fromkeys(s for s in specs if isinstance(s, str) and s))


def identity_mismatch(recorded: dict[str, Any], loaded: dict[str, Any]) -> str | None:
    """Why ``loaded`` is not the recorded model, or None when fingerprint, revision and weights agree."""
    for key in ("endpoint", "fingerprint", "revision", "weights_sha256"):
        if recorded.get(key) is not None and loaded.get(key) != recorded[key]:
            width = None if key == "endpoint" else 16
            return f"its {key} {str(loaded.get(key))[:width]} differs from the recorded {str(recorded[key])[:width]}"
    return None


def load_recorded_model(result: dict[str, Any], where: Path, options: Any, override: str | None = None) -> Any:
    """The model whose identity is the one recorded in ``result``, or UsageError (exit 2).

    A Python callable (``module:attr``) or an API model is never reached from what a submission
    says alone: the first is imported only when named with ``--model``, the second is called only
    at the ``--api-base`` the user gives.
    """
    from benchmark.retrievers import load_model

    model = result["model"]
    name = model.get("name")

    def refuse(why: str) -> UsageError:
        return UsageError(f"cannot load the model {name} recorded in {where}: {why}")

    if model.get("kind") == "openai-api" and not options.api_base:
        raise refuse(f"an API model needs --api-base (it was run against {model.get('endpoint')})")
    if override:
        specs = [override]
    elif model.get("kind") == "openai-api":
        specs = [str(name)]
    elif model.get("kind") == "callable":
        raise refuse("a Python callable is imported only when named with --model")
    else:
        specs = _candidate_specs(model, result.get("command"))
    reasons = []
    for spec in specs:
        try:
            loaded = load_model(spec, options)
            mismatch = identity_mismatch(model, loaded.identity().to_dict())
        except XbenchError as exc:
            reasons.append(f"{spec}: {exc}")
            continue
        if mismatch is None:
            return loaded
        reasons.append(f"{spec}: {mismatch}")
    raise refuse("; ".join(reasons) or "nothing to try")


# ---------------------------------------------------------------------------------------------
# re-running and comparing


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
    from benchmark.engine.taskdef import get_task

    given = {d.name: d for d in (get_task(t) for t in extra)}
    return given.get(name) or get_task(name)


def rerun_languages(task: TaskResult, picks: list[Pick], definition: Any) -> tuple[str, ...]:
    """The languages a re-run of ``picks`` needs: each pair's two, or every one for a pool."""
    languages = [str(x) for x in task.result.get("languages") or definition.languages]
    needed = set()
    for pick in picks:
        wanted = set(languages) if pick.kind == "multi" else {pick.query_lang, pick.corpus_lang}
        if not wanted <= set(definition.languages):
            raise _fail(task.path, f"setting {pick.label} names a language task {definition.name} does not have")
        needed |= wanted
    return tuple(lang for lang in definition.languages if lang in needed)


def rerun(task: TaskResult, picks: list[Pick], options: VerifyOptions, log) -> pd.DataFrame:
    """Re-evaluate the settings of ``picks`` of one task; returns the re-run's per-query table."""
    from benchmark.engine.runner import RunConfig, evaluate_task

    result = task.result
    definition = _definition(result["task"], options.tasks)
    recorded_version = (result.get("task_definition") or {}).get("version")
    if recorded_version is not None and str(recorded_version) != definition.version:
        raise UsageError(f"cannot verify {task.path}: task {definition.name} is version {definition.version} here, the result is of {recorded_version}")
    langs = rerun_languages(task, picks, definition)
    encoder_options = recorded_options(result, options.api_base, options.device, options.batch_size)
    retriever = load_recorded_model(result, task.path, encoder_options, options.model)
    official = bool((result.get("data") or {}).get("official", True))
    config = RunConfig(langs=langs, data_dir=options.data_dir, cache_dir=options.cache_dir, candidate_text=result.get("candidate_text"),
                       allow_modified_data=not official, quiet=options.quiet)
    log(f"== {definition.name}: re-running {len(picks)} setting(s) on {','.join(langs)} with {retriever.name}")
    fresh, per_query = evaluate_task(definition, retriever, encoder_options, config)
    recorded = (result.get("data") or {}).get("checksums") or {}
    for name, digest in fresh["data"]["checksums"].items():
        if recorded.get(name) != digest:
            raise UsageError(f"cannot verify {task.path}: the data file {name} here is not the one the result was made on")
    return per_query


def compare_setting(pick: Pick, submitted: pd.DataFrame, fresh: pd.DataFrame, sampled_run: bool) -> SettingCheck:
    """Query by query: every per-query value the re-run has (AP, rank distance, cutoff metrics,
    relevant count) within TOLERANCE, and the same queries (a sampled run may hold fewer). The
    board shows rank distance too, so a forged or dropped one must not pass as verified."""
    columns = [c for c in fresh.columns if c not in KEY_COLUMNS and pd.api.types.is_numeric_dtype(fresh[c])]
    columns.sort(key=lambda c: c != "ap")
    mine = submitted.set_index("query_id").reindex(columns=columns).apply(pd.to_numeric, errors="coerce").astype(np.float64)
    theirs = fresh.set_index("query_id")[columns].astype(np.float64)
    both = mine.index.intersection(theirs.index, sort=False)
    a, b = mine.loc[both], theirs.loc[both]
    diff = (a - b).abs().mask(a.isna() & b.isna(), 0.0).fillna(math.inf)
    worst = diff.max(axis=1) if columns else pd.Series(0.0, index=both)
    return SettingCheck(
        pick=pick,
        compared=len(both),
        max_abs_diff={c: float(diff[c].max()) if len(both) else 0.0 for c in columns},
        differing=[str(q) for q in worst[worst > TOLERANCE].sort_values(ascending=False, kind="stable").index],
        missing=[str(q) for q in mine.index.difference(theirs.index, sort=False)],
        unexpected=[] if sampled_run else [str(q) for q in theirs.index.difference(mine.index, sort=False)],
    )


@dataclass
class Verification:
    submission: Submission
    seed: int
    sample: int
    settings_total: int
    checks: list[SettingCheck]

    @property
    def agrees(self) -> bool:
        return all(c.agrees for c in self.checks)

    @property
    def max_abs_diff(self) -> dict[str, float]:
        """The largest difference of each per-query value over the sampled settings."""
        out: dict[str, float] = {}
        for check in self.checks:
            for column, value in check.max_abs_diff.items():
                out[column] = max(out.get(column, 0.0), value)
        return out

    def to_dict(self) -> dict[str, Any]:
        model = self.submission.model
        return {
            "result": "verified" if self.agrees else "disagrees",
            "submission": str(self.submission.folder),
            "model": {"name": model.get("name"), "fingerprint": model.get("fingerprint")},
            "xbench_version": __version__,
            "seed": self.seed,
            "sample": self.sample,
            "settings_total": self.settings_total,
            "tolerance": TOLERANCE,
            "queries_compared": sum(c.compared for c in self.checks),
            "max_abs_diff": _finite(self.max_abs_diff),
            "settings": [c.to_dict() for c in self.checks],
        }


def verify(folder: Path, options: VerifyOptions, log=lambda message: None) -> Verification:
    """Load the submission in ``folder``, re-run a seeded sample of its settings and compare."""
    submission = load_submission(folder)
    seed = options.seed if options.seed is not None else new_seed()
    picks, total = draw_sample(submission, options.sample, seed)
    checks = []
    for name, task in submission.tasks.items():
        mine = [p for p in picks if p.task == name]
        if not mine:
            continue
        fresh = rerun(task, mine, options, log)
        sampled_run = bool(task.result.get("sample"))
        for pick in mine:
            checks.append(compare_setting(pick, setting_rows(task.per_query, pick.record()), setting_rows(fresh, pick.record()), sampled_run))
    return Verification(submission, seed, options.sample, total, checks)


def record(verification: Verification, today: str | None = None) -> Path:
    """Write ``verification.json`` into a board submission that agreed; returns its path.

    It pins each task's per-query SHA-256, so the board counts it only for the files it checked.
    """
    if not verification.agrees or not verification.submission.on_board:
        raise ValueError("only an agreeing verification of a board submission is recorded")
    doc = verification.to_dict()
    doc.pop("submission")
    doc["date"] = today or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    doc["per_query_sha256"] = {name: t.result["per_query"].get("sha256") for name, t in verification.submission.tasks.items()}
    path = verification.submission.folder / VERIFICATION_FILE
    atomic_write_text(path, json.dumps(doc, indent=2) + "\n")
    return path


def verified_label(folder: Path, results: dict[str, dict[str, Any]]) -> str | None:
    """The board's mark for a submission: "<date>, <n>/<total> settings" when a recorded
    verification covers exactly its current per-query files; None (self-reported) otherwise."""
    try:
        doc = json.loads((Path(folder) / VERIFICATION_FILE).read_text(encoding="utf-8"))
        pinned = {name: r["per_query"]["sha256"] for name, r in results.items()}
        date, checked, total = doc["date"], len(doc["settings"]), doc["settings_total"]
        if doc["result"] != "verified" or doc["per_query_sha256"] != pinned or not isinstance(total, int) or not _DATE.fullmatch(str(date)):
            return None
        return f"{date}, {checked}/{total} settings"
    except (OSError, ValueError, KeyError, TypeError):
        return None
